"""Indexing tensor functions of the PyTorch face: gather, scatter, scatter_add, scatter_reduce,
index_select, masked_fill, masked_select, take, nonzero. Arguments are checked here; the
arithmetic and the gradients are in ops/index.py and ops/scatter_reduce.py."""
from __future__ import annotations

import numpy as np

from . import _core
from ._numpy_names import numpy_names
from .ops import elementwise as E, index as I
from .ops.scatter_reduce import ScatterReduce
from .tensor import Tensor


def _index_array(op, index) -> np.ndarray:
    idx = index._array if isinstance(index, Tensor) else np.asarray(index)
    I.check_index_dtype(op, idx)
    return idx


def _size(a, d):
    return a.shape[d] if a.ndim else 1


@numpy_names
def gather(input, dim, index, *, sparse_grad=False):
    if sparse_grad:
        raise NotImplementedError("gather(sparse_grad=True): ember has no sparse gradients")
    a, idx = input._array, _index_array("gather", index)
    d = I.dim_of("gather", dim, a.ndim)
    I.check_gather_shapes("gather", a, idx, d)
    I.check_in_range("gather", idx, _size(a, d), d,
                     f"input shape {tuple(a.shape)}, index shape {tuple(idx.shape)}")
    return I.Gather.apply(input, idx, dim=d)


@numpy_names
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """scatter(input, dim, index, src) or scatter(input, dim, index, value); reduce None, 'add'
    or 'multiply' as PyTorch's (see scatter_reduce for the others)."""
    if not isinstance(src, Tensor) and src is not None:
        src, value = None, src  # scatter(input, dim, index, 2.0): the value form
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of src (a tensor) or value (a number)")
    return _scatter("scatter", input, dim, index, src, value, reduce)


@numpy_names
def scatter_add(input, dim, index, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a tensor, got {type(src).__name__}")
    return _scatter("scatter_add", input, dim, index, src, None, "add")


def _scatter(op, input, dim, index, src, value, reduce):
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"{op}(): reduce argument must be either add or multiply, got "
                           f"{reduce!r}")
    d, idx = _scatter_index(op, input, dim, index, src)
    return I.Scatter.apply(input, idx, src, dim=d, reduce=reduce, value=value)


_SCATTER_REDUCTIONS = {"sum": "sum", "prod": "prod", "mean": "mean", "amax": "amax",
                       "amin": "amin", "max": "amax", "min": "amin"}  # max/min: as PyTorch


@numpy_names
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Each position index selects along dim becomes the reduction ('sum', 'prod', 'mean',
    'amax', 'amin') of the src values sent there, and of its own value if include_self."""
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, "
                           f"amax or amin, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): src must be a tensor, got {type(src).__name__}")
    d, idx = _scatter_index("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(input, idx, src, dim=d, reduce=_SCATTER_REDUCTIONS[reduce],
                               include_self=include_self)


def _scatter_index(op, input, dim, index, src):
    """dim as an axis and the index array, checked against input and src as PyTorch checks."""
    a, idx = input._array, _index_array(op, index)
    s = None if src is None else src._array
    if s is not None and s.dtype != a.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got "
                           f"{a.dtype} and {s.dtype}")
    d = I.dim_of(op, dim, a.ndim)
    I.check_gather_shapes(op, a, idx, d, s)
    I.check_in_range(op, idx, _size(a, d), d,
                     f"input shape {tuple(a.shape)}, index shape {tuple(idx.shape)}")
    return d, idx


def vector_index(op, a, dim, index):
    """dim as an axis and index as a checked 1-D array of positions along it (a 0-d index is
    one position), for index_select, index_add, index_copy and index_fill."""
    idx = _index_array(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got index shape "
                         f"{tuple(idx.shape)} (input shape {tuple(a.shape)})")
    d = I.dim_of(op, dim, a.ndim)
    idx = idx.reshape(-1)
    I.check_in_range(op, idx, _size(a, d), d,
                     f"input shape {tuple(a.shape)}, index shape {tuple(idx.shape)}")
    return d, idx


@numpy_names
def index_select(input, dim, index):
    d, idx = vector_index("index_select", input._array, dim, index)
    return I.IndexSelect.apply(input, idx, dim=d)


def take(input, index):
    a, idx = input._array, _index_array("take", index)
    I.check_in_range("take", idx, a.size, 0, f"input shape {tuple(a.shape)} read as 1-D, index "
                     f"shape {tuple(idx.shape)}", allow_negative=True)
    return I.Take.apply(input, idx)


def _bool_mask(op, mask) -> np.ndarray:
    m = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {m.dtype}")
    return m


def masked_fill(input, mask, value):
    m = _bool_mask("masked_fill", mask)
    dt = input._array.dtype
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                               f"a value of shape {tuple(value.shape)}")
        value = value if value._array.dtype == dt else value.to(dt)
    else:
        value = np.asarray(value).astype(dt)
    try:
        np.broadcast_shapes(m.shape, input._array.shape)
    except ValueError:
        raise _core.ShapeError(f"masked_fill: mask of shape {tuple(m.shape)} cannot be "
                               f"broadcast to input of shape {tuple(input.shape)}") from None
    return E.Where.apply(m, value, input)


def masked_select(input, mask):
    return I.MaskedSelect.apply(input, _bool_mask("masked_select", mask))


def nonzero(input, *, as_tuple=False):
    a = input._array if isinstance(input, Tensor) else np.asarray(input)
    if as_tuple:
        return tuple(Tensor._from_op(i.astype(np.int64), None)
                     for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._from_op(np.argwhere(a).astype(np.int64), None)


def argwhere(input):
    return nonzero(input)


# Tensor methods, and the functions that also have an in-place form (name + "_").
TENSOR_METHODS = {"gather": gather, "scatter": scatter, "scatter_add": scatter_add,
                  "scatter_reduce": scatter_reduce,
                  "index_select": index_select, "take": take, "masked_fill": masked_fill,
                  "masked_select": masked_select, "nonzero": nonzero, "argwhere": argwhere}
IN_PLACE = {"scatter": scatter, "scatter_add": scatter_add, "scatter_reduce": scatter_reduce,
            "masked_fill": masked_fill}
