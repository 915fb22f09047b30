"""Checksums in the HDF5 files ember writes (``.weights.h5``, legacy ``.h5`` and a ``.keras``
zip's ``model.weights.h5``), so that a flipped byte in a weight is an error, not a silent load.

Every array is written with HDF5's Fletcher-32 filter, which any HDF5 reader (real Keras
included) verifies as it reads (HDF5 cannot chunk, and so cannot filter, a scalar or an empty
array). Every dataset also carries the CRC-32 of its values in the attribute ``ember_crc32``
(Keras ignores attributes it does not know) and dtype: a flipped byte in the metadata that says
how the stored bytes decode (byte order, float or integer) passes Fletcher-32 but changes the
values.
Before reading, each chunk's stored size is checked: HDF5 crashed the interpreter on a chunk
whose recorded size was 0. Files without checksums (written by Keras) load unchecked.
"""
from __future__ import annotations

import math
import zlib

import numpy as np

CRC_ATTRIBUTE = "ember_crc32"


def _crc32(arr: np.ndarray) -> int:
    """CRC-32 of the array's dtype and values as little-endian bytes (whatever order the file
    used): a flipped datatype class (float32 read as uint32) keeps the bytes, not the dtype."""
    arr = np.ascontiguousarray(arr)
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return zlib.crc32(arr.tobytes(), zlib.crc32(arr.dtype.str.encode()))


def create_dataset(group, name: str, data):
    """``group.create_dataset(name, data=data)`` with a checksum of the data."""
    arr = np.asarray(data)
    dataset = group.create_dataset(name, data=arr, fletcher32=bool(arr.ndim and arr.size))
    dataset.attrs[CRC_ATTRIBUTE] = np.uint32(_crc32(arr))
    return dataset


def _check_chunks(dataset, where: str) -> None:
    """Each stored chunk has the size its layout implies (nothing is read before)."""
    if dataset.chunks is None:
        return
    try:
        infos = [dataset.id.get_chunk_info(i) for i in range(dataset.id.get_num_chunks())]
    except (OSError, ValueError, RuntimeError) as e:
        raise ValueError(f"{where} has an unreadable chunk index ({e})") from None
    raw = math.prod(dataset.chunks) * dataset.dtype.itemsize
    checksum_only = dataset.fletcher32 and dataset.compression is None \
        and not dataset.shuffle and dataset.scaleoffset is None
    for info in infos:
        if info.size == 0 or (checksum_only and info.size != raw + 4):
            raise ValueError(f"{where} is corrupt: a chunk of {info.size} bytes is stored where "
                             f"its layout needs {raw + 4 if checksum_only else 'more'}")


def read_dataset(dataset, source: str) -> np.ndarray:
    """The values of the h5py ``dataset`` of the file ``source``, checked against its checksum
    if it has one; a mismatch is a ValueError naming the file and the dataset."""
    where = f"{source}: the dataset '{dataset.name}'"
    _check_chunks(dataset, where)
    try:
        arr = np.asarray(dataset[()])
    except OSError as e:  # HDF5's filter pipeline: "data error detected by Fletcher32 checksum"
        raise ValueError(f"{where} is corrupt: its data fails the checksum or cannot be read "
                         f"({e})") from None
    try:
        expected = dataset.attrs.get(CRC_ATTRIBUTE)
    except OSError as e:
        raise ValueError(f"{where} has attributes that cannot be read ({e})") from None
    if expected is None:
        return arr
    expected = np.asarray(expected)
    if expected.shape != () or expected.dtype.kind not in "iu":
        raise ValueError(f"{where} has a malformed {CRC_ATTRIBUTE} attribute (dtype "
                         f"{expected.dtype}, shape {expected.shape})")
    if int(expected) != _crc32(arr):
        raise ValueError(f"{where} is corrupt: its values fail the CRC-32 recorded when it was "
                         "written")
    return arr
