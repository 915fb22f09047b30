"""PyTorch's legacy tensor names: FloatTensor & co., Tensor.type() and autograd.Variable.

`ember.FloatTensor(2, 3)` makes an uninitialised 2x3 float32 tensor, `ember.LongTensor([1, 2])`
an int64 tensor from data; `isinstance(t, ember.FloatTensor)` asks for a float32 tensor.
`t.type()` returns PyTorch's spelling, "torch.FloatTensor": scripts written for PyTorch compare
against that string, and only their imports change. `t.type()` accepts "torch.*" and "ember.*"
names, a legacy class or a dtype.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import autograd
from ._device import check_cpu
from .dtypes import (bool_, dtype as _dtype, float16, float32, float64, from_numpy_dtype, int8,
                     int16, int32, int64, to_numpy_dtype, uint8)
from .tensor import Size, Tensor, _as_array


class _LegacyTensorType(type):
    """Metaclass: the class is called to build a tensor and answers isinstance by dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._array.dtype == cls.dtype.numpy

    def __call__(cls, *args, device=None):
        check_cpu(cls.__name__, device)
        np_dtype = cls.dtype.numpy
        if not args:
            return Tensor._from_op(np.empty((0,), np_dtype), None)
        if len(args) == 1 and isinstance(args[0], Tensor):  # an alias of a tensor of its type
            if args[0]._array.dtype != np_dtype:
                raise TypeError(f"{cls.__name__}: expected {cls.dtype} tensor, got "
                                f"{args[0].dtype} (use .to(dtype) to convert)")
            return Tensor._from_op(args[0]._array, None)
        if all(_is_size(a) for a in args) or (len(args) == 1 and isinstance(args[0], Size)):
            sizes = tuple(args[0]) if isinstance(args[0], Size) else args
            return Tensor._from_op(np.empty(tuple(int(s) for s in sizes), np_dtype), None)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, "
                            f"got {len(args)} arguments of types "
                            f"{[type(a).__name__ for a in args]}")
        return Tensor._from_op(np.array(_as_array(args[0], cls.dtype), copy=True), None)

    def __repr__(cls):
        return f"<class 'ember.{cls.__name__}'>"


def _is_size(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _legacy_class(name, dt):
    return _LegacyTensorType(name, (), {"dtype": dt, "is_legacy_tensor_type": True,
                                        "__module__": "ember"})


FloatTensor = _legacy_class("FloatTensor", float32)
DoubleTensor = _legacy_class("DoubleTensor", float64)
HalfTensor = _legacy_class("HalfTensor", float16)
LongTensor = _legacy_class("LongTensor", int64)
IntTensor = _legacy_class("IntTensor", int32)
ShortTensor = _legacy_class("ShortTensor", int16)
CharTensor = _legacy_class("CharTensor", int8)
ByteTensor = _legacy_class("ByteTensor", uint8)
BoolTensor = _legacy_class("BoolTensor", bool_)

_BY_DTYPE = {cls.dtype.numpy: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                              IntTensor, ShortTensor, CharTensor, ByteTensor,
                                              BoolTensor)}
_BY_NAME = {f"{prefix}.{cls.__name__}": cls for cls in _BY_DTYPE.values()
            for prefix in ("torch", "ember")}


def dtype_of(op: str, spec) -> _dtype:
    """The dtype named by a legacy type name ("torch.DoubleTensor"), class or a dtype."""
    if isinstance(spec, str):
        if spec not in _BY_NAME:
            raise ValueError(f"{op}: invalid type {spec!r}; expected one of "
                             f"{sorted(n for n in _BY_NAME if n.startswith('torch.'))}")
        spec = _BY_NAME[spec]
    if isinstance(spec, _LegacyTensorType):
        return spec.dtype
    return spec if isinstance(spec, _dtype) else from_numpy_dtype(to_numpy_dtype(spec))


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """t.type() -> "torch.FloatTensor"; t.type(ember.float64 / ember.DoubleTensor /
    "torch.DoubleTensor") -> t cast to that type."""
    if dtype is None:
        return f"torch.{_BY_DTYPE[self._array.dtype].__name__}"
    return self.to(dtype_of("Tensor.type", dtype), non_blocking, **kwargs)


Tensor.type = _type


class _VariableType(type):
    """Metaclass: calling Variable makes a tensor, and every tensor is a Variable (as PyTorch)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad: bool = False, volatile=None):
        if volatile is not None:
            warnings.warn("volatile was removed and now has no effect. Use `with ember.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        # A new leaf sharing data's values, as PyTorch's Variable(t) is t.detach() re-flagged.
        return Tensor._from_op(data._array, None).requires_grad_(requires_grad)


class Variable(metaclass=_VariableType):
    """Legacy autograd.Variable(tensor, requires_grad=False): returns a tensor."""


autograd.Variable = Variable
