"""Whole-object files (`ember.save(model, f)`): a pickle of the object graph, arrays kept apart.

Layout: MAGIC, the pickle's length (8 bytes, little-endian), the pickle, then a safetensors blob
with every tensor's array. The pickle refers to tensors by persistent id, so arrays never pass
through pickle and tensors shared in the graph (tied weights) stay shared after loading.

Loading with `weights_only=True` (the default, as PyTorch 2.6+) uses a restricted unpickler:
it finds no global but ember's tensor types, plain containers and what the user allows through
`safe_globals([...])` / `add_safe_globals([...])`; anything else raises
`pickle.UnpicklingError` naming the global before it is imported, so a hostile file runs no code.
"""
from __future__ import annotations

import collections
import contextlib
import io
import pickle
import pickletools
import struct

import numpy as np
import safetensors.numpy

try:
    from numpy._core.multiarray import scalar as _numpy_scalar
except ImportError:  # NumPy 1
    from numpy.core.multiarray import scalar as _numpy_scalar

from . import _file_io, _pickle_guards
from ._device import device
from .dtypes import _by_name
from .nn.parameter import Parameter
from .tensor import Size, Tensor

MAGIC = b"EMBER-PICKLE-1\n\0"
_PROTOCOL = 4

# Globals every ember file may name: ember's types and plain containers and numbers. Each is a
# class or pure lookup whose call with any arguments builds data and runs no user code.
_DEFAULT_GLOBALS = {
    "ember.tensor.Tensor": Tensor, "ember.nn.parameter.Parameter": Parameter,
    "ember.tensor.Size": Size, "ember._device.device": device, "ember.dtypes._by_name": _by_name,
    "collections.OrderedDict": collections.OrderedDict,
    "builtins.set": set, "builtins.frozenset": frozenset, "builtins.slice": slice,
    "builtins.complex": complex, "builtins.bytearray": bytearray, "builtins.range": range,
    "numpy.dtype": np.dtype,
    # NumPy scalars (a float64 best loss kept on a module) pickle through this function, under
    # NumPy 2's name or NumPy 1's.
    "numpy._core.multiarray.scalar": _numpy_scalar, "numpy.core.multiarray.scalar": _numpy_scalar,
}
_user_globals: dict = {}  # add_safe_globals: for the whole process
_scoped_globals: list = []  # safe_globals: a stack of dicts, one per open `with`


def _global_name(entry) -> tuple:
    """(dotted name, object) for an entry of safe_globals: an object, or (object, "mod.name")."""
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str):
        return entry[1], entry[0]
    module, name = getattr(entry, "__module__", None), getattr(entry, "__qualname__", None)
    if not module or not name:
        raise TypeError(f"safe_globals: expected classes or functions (or (object, "
                        f"'module.name') pairs), got {entry!r}")
    return f"{module}.{name}", entry


def _as_table(entries) -> dict:
    if not isinstance(entries, (list, tuple, set)):
        raise TypeError(f"safe_globals: expected a list of classes or functions, got "
                        f"{type(entries).__name__}")
    return dict(_global_name(e) for e in entries)


def add_safe_globals(safe_globals) -> None:
    """Allows these classes/functions in every `ember.load(..., weights_only=True)` from now on."""
    _user_globals.update(_as_table(safe_globals))


def get_safe_globals() -> list:
    """What add_safe_globals allowed (not ember's defaults, not open safe_globals scopes)."""
    return list(_user_globals.values())


def clear_safe_globals() -> None:
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """`with ember.serialization.safe_globals([MyModel, nn.Linear]): ember.load(f)`."""
    _scoped_globals.append(_as_table(safe_globals))
    try:
        yield
    finally:
        _scoped_globals.pop()


def _allowed(name: str):
    for table in (_DEFAULT_GLOBALS, _user_globals, *_scoped_globals):
        if name in table:
            return table[name]
    return None


class MapLocationError(TypeError):
    """What a map_location callable got wrong (not the file's fault)."""


class _Refused(pickle.UnpicklingError):
    """A global or tensor reference the loader refuses; its message says why and what to do."""


# ---- writing ---------------------------------------------------------------------------------

class _Pickler(pickle.Pickler):
    """Replaces each tensor by ("tensor", key, class, requires_grad); its array goes apart."""

    def __init__(self, file):
        super().__init__(file, protocol=_PROTOCOL)
        self.arrays = {}
        self._keys = {}  # id(tensor) -> key, so a tensor seen twice is stored once
        self._seen = []  # keeps each tensor alive while the walk runs, so its id stays its own

    def persistent_id(self, obj):
        if not isinstance(obj, Tensor):
            return None
        key = self._keys.get(id(obj))
        if key is None:
            key = self._keys[id(obj)] = str(len(self.arrays))
            self._seen.append(obj)
            self.arrays[key] = np.ascontiguousarray(obj._array)
        return ("tensor", key, type(obj), bool(obj.requires_grad))


def dumps(obj) -> bytes:
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    try:
        pickler.dump(obj)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise TypeError(f"ember.save: cannot pickle {type(obj).__name__}: {e}") from None
    payload = buf.getvalue()
    blob = safetensors.numpy.save(pickler.arrays, metadata={
        "format": "ember-pickle-arrays-1", **_file_io.checksums(pickler.arrays, payload)})
    return MAGIC + struct.pack("<Q", len(payload)) + payload + blob


# ---- reading ---------------------------------------------------------------------------------

class _Unpickler(pickle.Unpickler):
    def __init__(self, file, arrays, weights_only: bool, name: str, relocate):
        super().__init__(file)
        self._arrays, self._weights_only, self._name = arrays, weights_only, name
        self._relocate = relocate
        self._tensors = {}

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        found = _pickle_guards.GUARDED.get(f"{module}.{name}") or _allowed(f"{module}.{name}")
        if found is None:
            raise _Refused(
                f"ember.load: weights_only load of {self._name} failed: unsupported global "
                f"{module}.{name}. If you trust this file and its classes, allow it with "
                f"`with ember.serialization.safe_globals([{name}]): ember.load(...)` or "
                f"`ember.serialization.add_safe_globals([{name}])`, or load with "
                f"weights_only=False (which can run arbitrary code).")
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "tensor"
                and isinstance(pid[1], str) and isinstance(pid[2], type)
                and issubclass(pid[2], Tensor)):
            raise _Refused(f"ember.load: {self._name} has an invalid tensor reference "
                           f"{pid!r:.80}")
        _, key, cls, requires_grad = pid
        cls = _pickle_guards.TENSOR_REFERENCES.get(cls, cls)
        if key not in self._tensors:
            if key not in self._arrays:
                raise _Refused(f"ember.load: {self._name} refers to tensor {key!r:.40}, which "
                               f"the file lacks")
            arr = self._arrays[key]
            arr = arr if arr.flags.writeable else arr.copy()
            t = cls(arr, requires_grad=bool(requires_grad))  # Tensor, Parameter or allowed subclass
            self._tensors[key] = t if self._relocate is None else self._relocate(t)
        return self._tensors[key]


def _split(data: bytes, name: str) -> tuple:
    """(pickle bytes, array blob) of a whole-object file."""
    header = len(MAGIC) + 8
    if len(data) < header:
        raise ValueError(f"ember.load: {name} is too short to be an ember file")
    (n,) = struct.unpack("<Q", data[len(MAGIC):header])
    if header + n > len(data):
        raise ValueError(f"ember.load: {name} is corrupt: pickle length {n} exceeds the file "
                         f"({len(data)} bytes)")
    return data[header:header + n], data[header + n:]


def _check_counted_lengths(payload: bytes, name: str, weights_only: bool) -> None:
    """Walks the pickle's opcodes without running them: a string or bytes opcode claiming
    more bytes than the pickle holds fails here, as the C unpickler would first allocate the
    claimed size (a 40-byte file could ask for terabytes)."""
    try:
        for _ in pickletools.genops(payload):
            pass
    except ValueError as e:  # pickletools' report of a truncated or malformed pickle
        what = f"weights_only load of {name} failed: the pickle is malformed" if weights_only \
            else f"{name} has a malformed pickle"
        raise pickle.UnpicklingError(f"ember.load: {what} ({e})") from None


def loads(data: bytes, weights_only: bool, name: str, relocate=None):
    payload, blob = _split(data, name)
    try:
        arrays = safetensors.numpy.load(blob)
    except Exception as e:  # the library reports corrupt data with its own exception types
        raise ValueError(f"ember.load: {name} is corrupt: {e}") from None
    _file_io.verify(_file_io.safetensors_metadata(blob), arrays, payload, "ember.load", name)
    _check_counted_lengths(payload, name, weights_only)
    unpickler = _Unpickler(io.BytesIO(payload), arrays, weights_only, name, relocate)
    try:
        return unpickler.load()
    except (_Refused, _pickle_guards.GuardRefused, MapLocationError):
        raise
    except Exception as e:  # a malformed pickle: as PyTorch, one error type under weights_only
        if not weights_only:
            raise
        raise pickle.UnpicklingError(f"ember.load: weights_only load of {name} failed: the "
                                     f"pickle is malformed ({type(e).__name__}: {e})") from None


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
               "BINSTRING", "STRING"}


def unsafe_globals(data: bytes, name: str) -> list:
    """The globals a whole-object file names that weights_only loading would refuse, read from
    its opcodes without running or importing anything."""
    payload, _ = _split(data, name)
    found, pushed, memo = [], [], {}
    try:
        for op, arg, _ in pickletools.genops(payload):
            if op.name in _STRING_OPS:
                pushed.append(arg)
            elif op.name in ("BINGET", "LONG_BINGET", "GET"):
                pushed.append(memo.get(int(arg)))
            elif op.name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(arg)] = pushed[-1] if pushed else None
            elif op.name in ("GLOBAL", "INST"):
                found.append(arg.replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(pushed) >= 2:
                found.append(f"{pushed[-2]}.{pushed[-1]}")
    except ValueError as e:  # pickletools' report of a malformed pickle
        raise pickle.UnpicklingError(f"ember: {name} has a malformed pickle ({e})") from None
    return list(dict.fromkeys(g for g in found if _allowed(g) is None))
