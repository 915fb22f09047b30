"""Reading ember's own files with bounded work, and the checksums that guard their tensors.

Only regular files are read: a FIFO would block forever and /dev/zero never ends. A file is
read in one pass of at most its size (as fstat reports it), so a loader's work is bounded by
the file on disk. Each tensor's bytes carry a CRC-32 (zlib, the standard library) in the file's
metadata, checked on load: a flipped byte is an error naming the tensor, not silent corruption.
"""
from __future__ import annotations

import json
import os
import stat
import zlib

import numpy as np

from ._bounds import memory_limit

CHECKSUM_KEY = "crc32"  # safetensors metadata: JSON {tensor key: CRC-32 of its bytes}
# and the CRC-32 of what gives the tensors their meaning (a state dict's structure, a whole
# object's pickle), so that a flipped byte there cannot rename a tensor or change a number
REST_CHECKSUM_KEY = "crc32_rest"


def _check_regular(mode: int, op: str, name: str) -> None:
    if stat.S_ISDIR(mode):  # what open() raises for one
        raise IsADirectoryError(f"{op}: {name} is a directory, not a file")
    if not stat.S_ISREG(mode):
        kind = ( "a FIFO" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise ValueError(f"{op}: {name} is {kind}; ember reads its files only from regular "
                         "files")


def _read_fd(fd: int, size: int, op: str, name: str) -> bytes:
    """Exactly the `size` bytes fstat reported (fewer if the file shrank meanwhile): every
    read makes progress or ends the loop."""
    if size > memory_limit():
        raise ValueError(f"{op}: {name} is {size} bytes, more than this process may hold")
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 26))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_file(f, op: str = "ember.load") -> bytes:
    """The whole content of a path or a binary file object, from regular files only. A path is
    opened non-blocking, so that a FIFO without a writer is refused instead of waited on."""
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            _check_regular(st.st_mode, op, name)
            return _read_fd(fd, st.st_size, op, name)
        finally:
            os.close(fd)
    name = "<file object>"
    try:
        fd = f.fileno()
    except (AttributeError, OSError, ValueError):  # io.BytesIO and the like: memory, bounded
        fd = None
    if fd is not None:
        st = os.fstat(fd)
        _check_regular(st.st_mode, op, getattr(f, "name", name))
        left = st.st_size - f.tell() if f.seekable() else st.st_size
        if left > memory_limit():
            raise ValueError(f"{op}: {getattr(f, 'name', name)} is {left} bytes, more than "
                             "this process may hold")
        return f.read(max(left, 0))
    return f.read()


def checksums(arrays: dict, rest: bytes) -> dict:
    """The metadata entries recording the CRC-32 of each array's bytes and of `rest`."""
    table = {k: zlib.crc32(np.ascontiguousarray(a).data) for k, a in arrays.items()}
    return {CHECKSUM_KEY: json.dumps(table), REST_CHECKSUM_KEY: str(zlib.crc32(rest))}


def verify(metadata: dict, arrays: dict, rest: bytes, op: str, name: str,
           tensor_name=lambda key: key) -> None:
    """Checks `rest` and each array against the checksums the file recorded. Files written
    before ember recorded checksums have none and load unchecked (nothing to compare with)."""
    recorded = metadata.get(CHECKSUM_KEY) if isinstance(metadata, dict) else None
    if recorded is None:
        return
    if metadata.get(REST_CHECKSUM_KEY) != str(zlib.crc32(rest)):
        raise ValueError(f"{op}: {name} is corrupt: its structure fails its checksum")
    try:
        table = json.loads(recorded)
    except (TypeError, ValueError, RecursionError):
        table = None
    if not isinstance(table, dict) or set(table) != set(arrays):
        raise ValueError(f"{op}: {name} is corrupt: its tensor checksums are unreadable or do "
                         "not match its tensors")
    for key, arr in arrays.items():
        if zlib.crc32(np.ascontiguousarray(arr).data) != table[key]:
            raise ValueError(f"{op}: {name} is corrupt: the data of tensor {tensor_name(key)} "
                             f"(shape {tuple(arr.shape)}, {arr.dtype}) fails its checksum")


def safetensors_metadata(blob: bytes) -> dict:
    """The __metadata__ of a safetensors blob ({} when it has none or cannot be read: the
    safetensors loader then reports the corruption itself)."""
    import struct

    if len(blob) < 8:
        return {}
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        return {}
    try:
        meta = json.loads(blob[8:8 + n]).get("__metadata__")
    except (ValueError, AttributeError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}
