"""Counting functions of the PyTorch face: count_nonzero, bincount, unique."""
from __future__ import annotations

import numpy as np

from ._numpy_names import numpy_names
from .ops.index import Scatter
from .ops.reduce import normalize_dims, reduction_axes
from .tensor import Tensor


def _const(array):
    return Tensor._from_op(np.asarray(array), None)


@numpy_names
def count_nonzero(input, dim=None):
    a = input._array
    return _const(np.asarray(np.count_nonzero(a, axis=reduction_axes(dim, a.ndim)), np.int64))


def bincount(input, weights=None, minlength=0):
    """Occurrences of each value of a 1-D non-negative integer tensor (int64), or the sums of
    `weights` per value (float32 weights stay float32, others become float64, as PyTorch);
    the weights' gradient is the incoming gradient at each input's bin."""
    a = input._array
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs; got shape "
                           f"{tuple(a.shape)}, dtype {a.dtype}")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    length = max(int(a.max()) + 1 if a.size else 0, minlength)
    if weights is None:
        return _const(np.bincount(a, minlength=length).astype(np.int64))
    if weights.shape != input.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input;"
                           f" got input shape {tuple(a.shape)}, weights shape "
                           f"{tuple(weights.shape)}")
    if weights._array.dtype not in (np.float32, np.float64):
        weights = weights.to(np.float64)
    return Scatter.apply(np.zeros(length, weights._array.dtype), a, weights, dim=0, reduce="add")



def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct values (or slices along dim), always sorted (PyTorch allows it for
    sorted=False); with the inverse indices (input's shape, or (size of dim,)) and counts."""
    a = input._array
    axis = None if dim is None else normalize_dims(dim, a.ndim)[0]
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
    out = [_const(values)]
    if return_inverse:
        shape = a.shape if axis is None else (a.shape[axis],)
        out.append(_const(inverse.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(_const(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The first element (or slice along dim) of each run of equal ones, in order; with the
    run each element belongs to (inverse) and the runs' lengths (counts)."""
    a = input._array
    if dim is None:
        slices = a.reshape(-1, 1)
    else:
        axis = normalize_dims(dim, a.ndim)[0]
        slices = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
    starts = np.ones(len(slices), bool)
    starts[1:] = (slices[1:] != slices[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    out = [_const(a.reshape(-1)[first] if dim is None else np.take(a, first, axis))]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        out.append(_const(inverse.reshape(a.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_const(np.diff(np.append(first, len(slices))).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


TENSOR_METHODS = {"count_nonzero": count_nonzero, "bincount": bincount, "unique": unique,
                  "unique_consecutive": unique_consecutive}
