"""all and any: whether every / some element (over dims) is nonzero. Results are bool (uint8
for uint8 input, as PyTorch keeps it), never part of a graph."""
from __future__ import annotations

import numpy as np

from ._numpy_names import numpy_names
from .ops.reduce import reduction_axes
from .tensor import Tensor


def _truth(ufunc, input, dim, keepdim):
    a = input._array if isinstance(input, Tensor) else np.asarray(input)
    out = ufunc(a, axis=reduction_axes(dim, a.ndim), keepdims=keepdim)
    return Tensor._from_op(np.asarray(out, np.uint8 if a.dtype == np.uint8 else np.bool_), None)


@numpy_names
def all(input, dim=None, keepdim=False):
    return _truth(np.all, input, dim, keepdim)


@numpy_names
def any(input, dim=None, keepdim=False):
    return _truth(np.any, input, dim, keepdim)


TENSOR_METHODS = {"all": all, "any": any}
