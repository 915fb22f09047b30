"""cumsum and cumprod of the PyTorch face (integer and bool inputs accumulate in int64, as
PyTorch does, unless dtype says otherwise), and the running extremes cummax and cummin."""
from __future__ import annotations

import numpy as np

from . import return_types
from ._numpy_names import numpy_names
from .ops import index as I
from .ops.scan import CumProd, CumSum
from .tensor import Tensor


def _prepared(op, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    elif input._array.dtype.kind in "biu" and input._array.dtype != np.int64:
        input = input.to(np.int64)
    return input, I.dim_of(op, dim, input._array.ndim)


@numpy_names
def cumsum(input, dim, *, dtype=None):
    input, axis = _prepared("cumsum", input, dim, dtype)
    return CumSum.apply(input, axis=axis)


@numpy_names
def cumprod(input, dim, *, dtype=None):
    input, axis = _prepared("cumprod", input, dim, dtype)
    return CumProd.apply(input, axis=axis)


def _running_extreme(op, ufunc, result, input, dim):
    """The running max/min along dim and where it was found: the latest of equal values (the
    latest NaN once one appears), as PyTorch; gradients go to those positions."""
    a = input._array
    axis = I.dim_of(op, dim, a.ndim)
    if a.ndim == 0:
        indices = np.zeros((), np.int64)
    else:
        values = ufunc.accumulate(a, axis=axis)
        found = (a == values) | (np.isnan(a) if a.dtype.kind == "f" else False)
        positions = np.arange(a.shape[axis]).reshape([-1 if d == axis else 1
                                                      for d in range(a.ndim)])
        indices = np.maximum.accumulate(np.where(found, positions, 0), axis=axis)
    return result(I.Gather.apply(input, indices, dim=axis),
                  Tensor._from_op(indices.astype(np.int64), None))


@numpy_names
def cummax(input, dim):
    return _running_extreme("cummax", np.maximum, return_types.cummax,
                            input, dim)


@numpy_names
def cummin(input, dim):
    return _running_extreme("cummin", np.minimum, return_types.cummin, input, dim)


TENSOR_METHODS = {"cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin}
IN_PLACE = {"cumsum": cumsum, "cumprod": cumprod}
