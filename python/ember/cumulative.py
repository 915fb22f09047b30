"""cumsum and cumprod of the PyTorch face: integer and bool inputs accumulate in int64, as
PyTorch does, unless dtype says otherwise."""
from __future__ import annotations

import numpy as np

from ._numpy_names import numpy_names
from .dtypes import to_numpy_dtype
from .ops import index as I
from .ops.scan import CumProd, CumSum


def _prepared(op, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    elif input._array.dtype.kind in "biu" and input._array.dtype != np.int64:
        input = input.to(to_numpy_dtype("long"))
    return input, I.dim_of(op, dim, input._array.ndim)


@numpy_names
def cumsum(input, dim, *, dtype=None):
    input, axis = _prepared("cumsum", input, dim, dtype)
    return CumSum.apply(input, axis=axis)


@numpy_names
def cumprod(input, dim, *, dtype=None):
    input, axis = _prepared("cumprod", input, dim, dtype)
    return CumProd.apply(input, axis=axis)


TENSOR_METHODS = {"cumsum": cumsum, "cumprod": cumprod}
IN_PLACE = {"cumsum": cumsum, "cumprod": cumprod}
