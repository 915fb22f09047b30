"""index_add, index_copy and index_fill: write the slices along dim that a 1-D index picks,
through the scatter and masked_fill ops (and so their gradients)."""
from __future__ import annotations

import numpy as np

from . import _core, functions as F
from ._numpy_names import numpy_names
from .indexing import masked_fill, vector_index
from .ops import index as I


def _scatter_index(op, input, dim, index, source):
    """dim as an axis, and index spread over source's shape (the index scatter reads), after
    checking that source matches input but for dim, where it has one slice per index."""
    a, s = input._array, source._array
    d, idx = vector_index(op, a, dim, index)
    expected = a.shape[:d] + (idx.size,) + a.shape[d + 1:] if a.ndim else (idx.size,)
    if np.atleast_1d(s).shape != expected:
        raise _core.ShapeError(f"{op}(): source must match input except in dimension {dim}, "
                               f"where it needs one slice per index; got input shape "
                               f"{tuple(a.shape)}, index shape {tuple(idx.shape)}, source shape "
                               f"{tuple(s.shape)}")
    if s.dtype != a.dtype:
        raise RuntimeError(f"{op}(): self ({a.dtype}) and source ({s.dtype}) must have the same "
                           f"dtype")
    along = [1] * len(expected)
    along[d] = idx.size
    return d, np.broadcast_to(idx.reshape(along), expected)


@numpy_names
def index_add(input, dim, index, source, *, alpha=1):
    d, spread = _scatter_index("index_add", input, dim, index, source)
    source = source if alpha == 1 else F.mul(source, alpha)
    return I.Scatter.apply(input, spread, source, dim=d, reduce="add")


@numpy_names
def index_copy(input, dim, index, source):
    d, spread = _scatter_index("index_copy", input, dim, index, source)
    return I.Scatter.apply(input, spread, source, dim=d)


@numpy_names
def index_fill(input, dim, index, value):
    a = input._array
    d, idx = vector_index("index_fill", a, dim, index)
    mask = np.zeros(a.shape, bool)
    mask[(slice(None),) * d + (idx,) if a.ndim else ()] = idx.size > 0
    return masked_fill(input, mask, value)


TENSOR_METHODS = {"index_add": index_add, "index_copy": index_copy, "index_fill": index_fill}
IN_PLACE = TENSOR_METHODS
