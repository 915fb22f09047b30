"""ember.save / ember.load: state dicts and other nested containers of tensors in a safe file.

The file is a safetensors file (no pickle: loading never runs code). Tensors are stored as
arrays; the nesting (dicts, lists, tuples, numbers, strings, which tensors are Parameters) is a
JSON tree in the file's metadata. Anything malformed raises ValueError naming the problem.
"""
from __future__ import annotations

import io
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import safetensors.numpy

from .tensor import Tensor

_FORMAT = "ember-1"
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors spec caps the header at 100 MB
_SCALARS = (str, int, float, bool, type(None))


def save(obj, f) -> None:
    """Saves `obj` (e.g. ``model.state_dict()`` or ``optimizer.state_dict()``) to a path or a
    binary file object."""
    arrays = {}
    structure = _encode(obj, arrays)
    data = safetensors.numpy.save(arrays, metadata={"format": _FORMAT,
                                                    "structure": json.dumps(structure)})
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)


def load(f, map_location=None, weights_only=True, **kwargs):
    """Loads what ``ember.save`` wrote, from a path or a binary file object."""
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise NotImplementedError(f"ember.load: ember runs on the CPU only; got "
                                  f"map_location={map_location!r}")
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else "<file object>"
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    structure = _read_structure(data, name)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # the library reports corrupt data with its own exception types
        raise ValueError(f"ember.load: {name} is corrupt: {e}") from None
    try:
        return _decode(structure, arrays, set())
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as e:
        raise ValueError(f"ember.load: {name} has an invalid structure ({e})") from None


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
        return json.loads(meta["structure"])
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise ValueError(f"ember.load: {name} has a corrupt structure ({type(e).__name__})") \
            from None


def _decode(node, arrays, used):
    if isinstance(node, _SCALARS):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise ValueError(f"unexpected node {node!r:.60}")
    if "$tensor" in node:
        arr = _take(node["$tensor"], arrays, used)
        if node.get("parameter"):
            from .nn.parameter import Parameter
            return Parameter(arr, requires_grad=bool(node.get("requires_grad", True)))
        t = Tensor._from_op(arr, None)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "$ndarray" in node:
        return _take(node["$ndarray"], arrays, used)
    if "$dict" in node:
        items = node["$dict"]
        out = OrderedDict()
        for k, v in items:
            if not isinstance(k, _SCALARS):
                raise ValueError(f"dict key {k!r:.60} is not a string or number")
            out[k] = _decode(v, arrays, used)
        return out
    if "$list" in node:
        return [_decode(v, arrays, used) for v in node["$list"]]
    if "$tuple" in node:
        return tuple(_decode(v, arrays, used) for v in node["$tuple"])
    raise ValueError(f"unknown node kind {sorted(node)!r:.60}")


def _take(key, arrays, used):
    if not isinstance(key, str) or key not in arrays:
        raise ValueError(f"the structure refers to tensor {key!r:.40}, which the file lacks")
    if key in used:
        raise ValueError(f"tensor {key!r} is referenced twice")
    used.add(key)
    arr = arrays[key]
    return arr if arr.flags.writeable else arr.copy()
