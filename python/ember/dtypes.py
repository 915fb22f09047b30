"""ember dtypes: thin named wrappers of NumPy dtypes that print like PyTorch's."""
from __future__ import annotations

import numpy as np


class dtype:
    __slots__ = ("name", "numpy", "is_floating_point", "itemsize")

    def __init__(self, name: str, numpy_dtype):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
float16 = dtype("float16", np.float16)
int64 = dtype("int64", np.int64)
int32 = dtype("int32", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
bool_ = dtype("bool", np.bool_)

_ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)
_FROM_NUMPY = {d.numpy: d for d in _ALL}
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
            "short": int16, "bool": bool_}


def _by_name(name):
    return {d.name: d for d in _ALL}[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"ember does not support NumPy dtype {np.dtype(np_dtype)}") from None


def to_numpy_dtype(d) -> np.dtype:
    """Accepts an ember dtype, a NumPy dtype/type, or a name such as 'float32'."""
    if isinstance(d, dtype):
        return d.numpy
    if isinstance(d, str) and d in _ALIASES:
        return _ALIASES[d].numpy
    if d is float:
        return float32.numpy
    if d is int:
        return int64.numpy
    if d is bool:
        return bool_.numpy
    try:
        return from_numpy_dtype(d).numpy
    except TypeError:
        raise TypeError(f"unsupported dtype {d!r}") from None
