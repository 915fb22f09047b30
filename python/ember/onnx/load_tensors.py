"""ONNX TensorProto -> NumPy array, every size checked against the data the file really
holds before anything is allocated: a tensor's bytes must be exactly those its shape needs, so
a 2 KB file claiming a 2**40-element initializer is an error naming it, not an attempt to
allocate it.

External data (a tensor's bytes in another file) is read only when the model was loaded from a
path, and only from regular files inside the model's own folder: a model must not make ember
read /etc/passwd or /dev/zero."""
from __future__ import annotations

import math
import os
import stat

import numpy as np

# TensorProto.DataType -> (NumPy dtype, typed field that may hold the values)
DTYPES = {1: (np.float32, "float_data"), 2: (np.uint8, "int32_data"),
          3: (np.int8, "int32_data"), 5: (np.int16, "int32_data"), 6: (np.int32, "int32_data"),
          7: (np.int64, "int64_data"), 9: (np.bool_, "int32_data"),
          10: (np.float16, "int32_data"), 11: (np.float64, "double_data")}
TYPE_NAMES = {0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16",
              6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
              12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16"}
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


def numpy_dtype(data_type: int, what: str):
    if data_type not in DTYPES:
        name = TYPE_NAMES.get(data_type, f"data type {data_type}")
        error = NotImplementedError if data_type in TYPE_NAMES and data_type else ValueError
        raise error(f"{what}: tensors of type {name} are not supported by ember")
    return np.dtype(DTYPES[data_type][0])


def to_array(proto, what: str, folder: str | None) -> np.ndarray:
    """The array `proto` holds; `what` names it in errors; `folder` is the model's folder (None
    when it was not loaded from a path: external data is then refused)."""
    dtype = numpy_dtype(proto.data_type, what)
    dims = [int(d) for d in proto.dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{what}: negative dimension in its shape {dims}")
    count = math.prod(dims)
    if proto.HasField("segment"):
        raise NotImplementedError(f"{what}: segmented tensors are not supported by ember")
    if proto.data_location == EXTERNAL:
        raw = _external_bytes(proto, what, folder, count * dtype.itemsize)
    elif proto.HasField("raw_data"):
        raw = proto.raw_data
    else:
        return _from_typed_field(proto, what, dtype, dims, count)
    if len(raw) != count * dtype.itemsize:
        raise ValueError(f"{what}: shape {dims} of {dtype} needs {count * dtype.itemsize} bytes, "
                         f"but the file holds {len(raw)}")
    array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True)
    if dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
        raise ValueError(f"{what}: BOOL data holds bytes other than 0 and 1")
    return array.reshape(dims)


def _from_typed_field(proto, what: str, dtype, dims, count) -> np.ndarray:
    field = DTYPES[proto.data_type][1]
    values = getattr(proto, field)
    if len(values) != count:
        raise ValueError(f"{what}: shape {dims} needs {count} values, but its {field} holds "
                         f"{len(values)}")
    if dtype.kind == "f" and dtype != np.float16:
        return np.asarray(values, dtype=dtype).reshape(dims)
    wide = np.asarray(values, dtype=np.int64)
    if dtype == np.float16:  # FLOAT16 values are stored as their 16-bit patterns
        dtype, bits = np.dtype(np.uint16), True
    else:
        bits = False
    info = np.iinfo(dtype) if dtype != np.bool_ else np.iinfo(np.uint8)
    top = 1 if dtype == np.bool_ else info.max
    if count and (wide.min() < info.min or wide.max() > top):
        raise ValueError(f"{what}: {field} holds values outside the range of its type")
    array = wide.astype(dtype).reshape(dims)
    return array.view(np.float16) if bits else array


def _external_bytes(proto, what: str, folder: str | None, nbytes: int) -> bytes:
    if folder is None:
        raise ValueError(f"{what}: the tensor's data is in an external file, which ember reads "
                         "only for a model loaded from its path (not from bytes or a file "
                         "object)")
    entries = {e.key: e.value for e in proto.external_data}
    location = entries.get("location", "")
    if not all(isinstance(v, str) for v in entries.values()):
        raise ValueError(f"{what}: the external data's entries are not valid UTF-8 text")
    try:
        offset = int(entries.get("offset", "0"))
        length = int(entries["length"]) if "length" in entries else nbytes
    except ValueError:
        raise ValueError(f"{what}: the external data's offset or length is not an integer") \
            from None
    if offset < 0 or length != nbytes:
        raise ValueError(f"{what}: the external data's offset {offset} and length {length} do "
                         f"not fit the tensor's {nbytes} bytes")
    path = _inside(folder, location, what)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{what}: external data {location!r} is not a regular file")
        if offset + nbytes > st.st_size:
            raise ValueError(f"{what}: external data {location!r} has {st.st_size} bytes, too "
                             f"few for {nbytes} bytes at offset {offset}")
        data = os.pread(fd, nbytes, offset)
    finally:
        os.close(fd)
    if len(data) != nbytes:
        raise ValueError(f"{what}: external data {location!r} ended early")
    return data


def _inside(folder: str, location: str, what: str) -> str:
    """The real path of `location`, which must name a file inside the model's folder."""
    if not location or "\0" in location or os.path.isabs(location):
        raise ValueError(f"{what}: external data location {location!r} must be a relative path "
                         "inside the model's folder")
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, location))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValueError(f"{what}: external data location {location!r} leads outside the "
                         f"model's folder {root}; ember refuses it")
    if not os.path.exists(path):
        raise ValueError(f"{what}: external data file {location!r} does not exist in {root}")
    return path
