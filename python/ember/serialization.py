"""ember.save / ember.load: state dicts in a safe file; whole objects in a guarded pickle.

A state dict (nested containers of tensors) is a safetensors file (no pickle: loading never
runs code). Tensors are stored as arrays; the nesting (dicts, lists, tuples, numbers, strings,
which tensors are Parameters) is a JSON tree in the file's metadata. Anything malformed raises
ValueError naming the problem. Other objects (a whole Module) go through _pickle_format, whose
loader admits only allowed classes (`safe_globals`). Saves to a path are atomic.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import struct
from collections import OrderedDict

import numpy as np
import safetensors.numpy

from . import _file_io, _pickle_format
from ._device import check_cpu, device
from ._pickle_format import (MapLocationError, add_safe_globals, clear_safe_globals,
                             get_safe_globals, safe_globals)
from .tensor import Tensor

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "load", "safe_globals", "save"]

_FORMAT = "ember-1"
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors spec caps the header at 100 MB
_SCALARS = (str, int, float, bool, type(None))


def save(obj, f) -> None:
    """Saves `obj` to a path (written atomically) or a binary file object.

    A state_dict (nested dicts, lists and tuples of tensors, arrays and numbers) is written as a
    safetensors file; anything else (a whole Module, a dict holding one) as a pickle whose
    tensors are stored apart, which ``load`` reads back only for allowed classes.
    """
    arrays = {}
    try:
        structure = _encode(obj, arrays)
    except TypeError:
        data = _pickle_format.dumps(obj)
    else:
        text = json.dumps(structure)
        data = safetensors.numpy.save(arrays, metadata={
            "format": _FORMAT, "structure": text, **_file_io.checksums(arrays, text.encode())})
    if isinstance(f, (str, os.PathLike)):
        atomic_write(os.fspath(f), data)
    else:
        f.write(data)


def atomic_write(path: str, data: bytes) -> None:
    """Writes a temporary file beside `path`, syncs it and renames it over `path`: a crash or a
    full disk leaves the old file whole, never a truncated one."""
    folder, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode as open(): umask applies
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Loads what ``ember.save`` wrote, from a path or a binary file object.

    Whole objects load with ``weights_only=True`` only if every class they name is ember's own,
    a plain container, or allowed through ``ember.serialization.safe_globals([...])`` /
    ``add_safe_globals([...])``; ``weights_only=False`` trusts the file (it can run code).
    """
    if pickle_module is not None:
        raise NotImplementedError("ember.load: pickle_module is not supported; ember uses its "
                                  "own restricted unpickler")
    if mmap:
        raise NotImplementedError("ember.load: mmap=True is not supported")
    relocate = _relocation(map_location)
    name, data = _name(f), _read(f)
    if data.startswith(_pickle_format.MAGIC):
        return _pickle_format.loads(data, bool(weights_only), name, relocate)
    structure, meta = _read_structure(data, name)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # the library reports corrupt data with its own exception types
        raise ValueError(f"ember.load: {name} is corrupt: {e}") from None
    _file_io.verify(meta, arrays, meta["structure"].encode(), "ember.load", name,
                    lambda key: _tensor_name(structure, key))
    try:
        return _decode(structure, arrays, set(), relocate)
    except MapLocationError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as e:
        raise ValueError(f"ember.load: {name} has an invalid structure ({e})") from None


def get_unsafe_globals_in_checkpoint(f) -> list:
    """The "module.name" globals a whole-object file needs allowed (through safe_globals) before
    ``load(f)`` with weights_only=True accepts it; [] for state_dict files, which need none."""
    data = _read(f)
    if not data.startswith(_pickle_format.MAGIC):
        return []
    return _pickle_format.unsafe_globals(data, _name(f))


def _relocation(map_location):
    """map_location as a function applied to each loaded tensor. Files hold CPU tensors only, so
    a string, device or dict must map to the CPU; a callable gets (tensor, "cpu") as PyTorch's
    gets (storage, location) and returns the tensor to use."""
    if callable(map_location) and not isinstance(map_location, (str, device)):
        def relocate(t):
            out = map_location(t, "cpu")
            if not isinstance(out, Tensor):
                raise MapLocationError(f"ember.load: map_location returned "
                                        f"{type(out).__name__}, expected a tensor")
            return out
        return relocate
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        check_cpu("ember.load(map_location=...)", target)
    return None


def _name(f) -> str:
    return os.fspath(f) if isinstance(f, (str, os.PathLike)) else "<file object>"


def _read(f) -> bytes:
    return _file_io.read_file(f, "ember.load")


def _tensor_name(structure, key: str) -> str:
    """The state_dict path of tensor `key` in a file's structure ('fc.weight'), for messages."""
    stack = [(structure, "")]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("$tensor") == key or node.get("$ndarray") == key:
            return repr(path or key)
        for kind in ("$list", "$tuple"):
            if isinstance(node.get(kind), list):
                stack += [(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(node[kind])]
        if isinstance(node.get("$dict"), list):
            stack += [(kv[1], f"{path}.{kv[0]}" if path else str(kv[0]))
                      for kv in node["$dict"] if isinstance(kv, list) and len(kv) == 2]
    return repr(key)


def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        key = str(len(arrays))
        arrays[key] = np.asarray(obj._array, order="C")
        from .nn.parameter import Parameter
        return {"$tensor": key, "parameter": isinstance(obj, Parameter),
                "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        key = str(len(arrays))
        arrays[key] = np.asarray(obj, order="C")
        return {"$ndarray": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, _SCALARS):
                raise TypeError(f"ember.save: dict keys must be strings or numbers, got "
                                f"{type(k).__name__}")
        return {"$dict": [[k, _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"$list" if isinstance(obj, list) else "$tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, _SCALARS):
        return obj
    raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__}; save a "
                    "state_dict (nested dicts, lists and tuples of tensors, arrays and numbers)")


def _read_structure(data: bytes, name: str):
    if data[:4] == b"PK\x03\x04":
        raise ValueError(f"ember.load: {name} looks like a PyTorch .pt file (a zip of pickles), "
                         "which ember does not unpickle. In PyTorch, convert it with "
                         "{k: v.numpy() for k, v in torch.load(path).items()} and pass that to "
                         "load_state_dict, or save it with safetensors.")
    if len(data) < 8:
        raise ValueError(f"ember.load: {name} is too short ({len(data)} bytes) to be an ember file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise ValueError(f"ember.load: {name} is corrupt: header length {n} exceeds the file "
                         f"({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n])
        meta = header.get("__metadata__") or {}
    except (ValueError, AttributeError, RecursionError) as e:
        raise ValueError(f"ember.load: {name} has a corrupt header ({type(e).__name__}: {e})") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"ember.load: {name} is a safetensors file but not one written by "
                         "ember.save; read it with safetensors.numpy.load_file")
    try:
        return json.loads(meta["structure"]), meta
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise ValueError(f"ember.load: {name} has a corrupt structure ({type(e).__name__})") \
            from None


def _decode(node, arrays, used, relocate=None):
    if isinstance(node, _SCALARS):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise ValueError(f"unexpected node {node!r:.60}")
    if "$tensor" in node:
        arr = _take(node["$tensor"], arrays, used)
        if node.get("parameter"):
            from .nn.parameter import Parameter
            p = Parameter(arr, requires_grad=bool(node.get("requires_grad", True)))
            return p if relocate is None else relocate(p)
        t = Tensor._from_op(arr, None)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t if relocate is None else relocate(t)
    if "$ndarray" in node:
        return _take(node["$ndarray"], arrays, used)
    if "$dict" in node:
        items = node["$dict"]
        out = OrderedDict()
        for k, v in items:
            if not isinstance(k, _SCALARS):
                raise ValueError(f"dict key {k!r:.60} is not a string or number")
            out[k] = _decode(v, arrays, used, relocate)
        return out
    if "$list" in node:
        return [_decode(v, arrays, used, relocate) for v in node["$list"]]
    if "$tuple" in node:
        return tuple(_decode(v, arrays, used, relocate) for v in node["$tuple"])
    raise ValueError(f"unknown node kind {sorted(node)!r:.60}")


def _take(key, arrays, used):
    if not isinstance(key, str) or key not in arrays:
        raise ValueError(f"the structure refers to tensor {key!r:.40}, which the file lacks")
    if key in used:
        raise ValueError(f"tensor {key!r} is referenced twice")
    used.add(key)
    arr = arrays[key]
    return arr if arr.flags.writeable else arr.copy()
