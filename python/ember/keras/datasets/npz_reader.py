"""Reading the ``.npz`` archives in Keras' dataset cache without trusting them.

Each numeric member's ``.npy`` header must promise exactly the bytes the member holds before
NumPy allocates the array (a lying header cannot ask for terabytes); object arrays (IMDB and
Reuters keep lists of word ids that way) go through ``safe_pickle`` only when the caller
expects them, and are refused otherwise, as ``np.load(allow_pickle=False)`` would.
"""
from __future__ import annotations

import io
import math
import zipfile
import zlib

import numpy as np

from . import safe_pickle


def read_npy_header(member, where):
    """(shape, fortran_order, dtype) from a ``.npy`` stream positioned at its start."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(member)
        if version in ((2, 0), (3, 0)):  # 3.0 differs only in the header's text encoding
            return np.lib.format.read_array_header_2_0(member)
        raise ValueError(f"unsupported .npy format version {version}")
    except ValueError as error:
        raise ValueError(f"{where} is not a valid .npy array: {error}") from error


def _read_member(data, where, allow_objects):
    stream = io.BytesIO(data)
    shape, fortran_order, dtype = read_npy_header(stream, where)
    if dtype.hasobject:
        if not allow_objects:
            raise ValueError(f"{where} holds Python objects; refusing to unpickle it")
        array = safe_pickle.load(data[stream.tell():], where)
        if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
            raise ValueError(f"{where}: the pickled array does not match its header")
        return array
    body = len(data) - stream.tell()
    if math.prod(shape) * dtype.itemsize != body:
        raise ValueError(f"{where}: the header promises {math.prod(shape) * dtype.itemsize} "
                         f"bytes but the member holds {body} (damaged or hostile file)")
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return array.reshape(shape, order="F" if fortran_order else "C").copy()


def load_npz(path, keys, where, allow_objects=False):
    """{key: array} for each of ``keys`` in the archive at ``path``; ValueError when one is
    missing, damaged or (unless ``allow_objects``) holds Python objects."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [key for key in keys if key + ".npy" not in names]
            if missing:
                raise ValueError(f"{where}: {path} lacks {', '.join(missing)} (it holds "
                                 f"{', '.join(sorted(names)) or 'nothing'})")
            arrays = {}
            for key in keys:
                with archive.open(key + ".npy") as member:
                    arrays[key] = _read_member(member.read(), f"{where}: {path}: {key}",
                                               allow_objects)
            return arrays
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise ValueError(f"{where}: {path} is not a readable .npz archive: {error}") from error
