"""Sorting and order statistics of the PyTorch face: sort, argsort, msort, topk, kthvalue,
median, nanmedian, mode. Orders come from a stable NumPy sort (ops/sort.py); the values are gathered
through ops/index.Gather, so gradients flow to the selected elements."""
from __future__ import annotations

import numpy as np

from . import return_types
from ._numpy_names import numpy_names
from .ops import index as I, shape as S
from .ops.sort import SelectedValue, sort_order, take_at
from .tensor import Tensor


def _indices(order):
    return Tensor._from_op(order.astype(np.int64, copy=False), None)


def _order(a, axis, descending=False):
    if a.ndim == 0:
        return np.zeros((), np.int64)
    return sort_order(a, axis, descending)


def _axis_with_k(op, a, dim, k, lowest):
    """dim as an axis, after checking lowest <= k <= its size."""
    axis = I.dim_of(op, dim, a.ndim)
    n = a.shape[axis] if a.ndim else 1
    if not lowest <= k <= n:
        raise RuntimeError(f"{op}(): selected k={k} out of range for dimension {dim} of size "
                           f"{n} (input shape {tuple(a.shape)})")
    return axis


def _drop_dim(values, indices, axis, keepdim):
    """Values and indices picked with the reduced dim kept (size 1), squeezed unless keepdim."""
    if keepdim or values._array.ndim == 0:
        return values, indices
    shape = values._array.shape[:axis] + values._array.shape[axis + 1:]
    return S.Reshape.apply(values, shape=shape, op="squeeze"), indices.reshape(shape)


@numpy_names
def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values and their indices along dim; always stable (PyTorch allows either)."""
    a = input._array
    axis = I.dim_of("sort", dim, a.ndim)
    order = _order(a, axis, descending)
    return return_types.sort(I.Gather.apply(input, order, dim=axis), _indices(order))


@numpy_names
def argsort(input, dim=-1, descending=False, stable=False):
    a = input._array
    return _indices(_order(a, I.dim_of("argsort", dim, a.ndim), descending))


def msort(input):
    return sort(input, dim=0).values


@numpy_names
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along dim, with indices, largest first. sorted=False
    returns them sorted too, which PyTorch allows."""
    a = input._array
    axis = _axis_with_k("topk", a, dim, k, 0)
    order = _order(a, axis, descending=largest)
    if a.ndim:
        order = order[(slice(None),) * axis + (slice(0, k),)]
    return return_types.topk(I.Gather.apply(input, order, dim=axis), _indices(order))


@numpy_names
def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value (k counts from 1) along dim, with its index."""
    _axis_with_k("kthvalue", input._array, dim, k, 1)
    return _pick(return_types.kthvalue, "kthvalue", input, dim, keepdim,
                 lambda order, axis: take_at(order, axis, k - 1))


@numpy_names
def median(input, dim=None, keepdim=False):
    """median(t): the lower median of all elements (NaN if any is NaN).
    median(t, dim): (values, indices) of the lower median along dim."""
    return _median(return_types.median, "median", input, dim, keepdim, skip_nan=False)


@numpy_names
def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaNs (NaN only where every value is NaN; that row's index is one of its
    NaNs, which PyTorch leaves unspecified too)."""
    return _median(return_types.nanmedian, "nanmedian", input, dim, keepdim, skip_nan=True)


def _median(result, op, input, dim, keepdim, skip_nan):
    a = input._array
    nans = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    if dim is None:
        flat = np.sort(a[~nans] if skip_nan else a.reshape(-1))
        if flat.size == 0 or (not skip_nan and nans.any()):
            return SelectedValue.apply(input, np.nan)
        return SelectedValue.apply(input, flat[(flat.size - 1) // 2])

    def lower_median(order, axis):
        n, missing = a.shape[axis], nans.sum(axis=axis, keepdims=True)
        if skip_nan:  # the lower median of the numbers (NaNs sort last)
            position = np.where(missing < n, (n - missing - 1) // 2, (n - 1) // 2)
        else:  # NaN as soon as one is there: the first NaN's position, as PyTorch
            position = np.where(missing > 0, n - missing, (n - 1) // 2)
        return np.take_along_axis(order, np.broadcast_to(position, order.shape[:axis] + (1,)
                                                         + order.shape[axis + 1:]), axis)

    return _pick(result, op, input, dim, keepdim, lower_median)


@numpy_names
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of equally frequent ones) and the index
    of its last occurrence, as PyTorch's CPU kernel."""
    a = input._array

    def most_frequent(order, axis):
        rows = np.moveaxis(order, axis, -1).reshape(-1, a.shape[axis])
        values = np.take_along_axis(np.moveaxis(a, axis, -1).reshape(rows.shape), rows, -1)
        picked = np.empty((rows.shape[0], 1), np.int64)
        for r, (row, vals) in enumerate(zip(rows, values)):
            ends = np.flatnonzero(np.append(vals[1:] != vals[:-1], True))  # last of each run
            counts = np.diff(np.concatenate(([-1], ends)))
            picked[r, 0] = row[ends[np.argmax(counts)]]
        shape = np.moveaxis(order, axis, -1).shape[:-1] + (1,)
        return np.moveaxis(picked.reshape(shape), -1, axis)

    return _pick(return_types.mode, "mode", input, dim, keepdim, most_frequent)


def _pick(result, op, input, dim, keepdim, choose):
    """result(values, indices) of the element `choose(sort order, axis)` selects along dim."""
    a = input._array
    axis = I.dim_of(op, dim, a.ndim)
    if a.ndim and a.shape[axis] == 0:
        raise IndexError(f"{op}(): cannot reduce dimension {dim} of size 0 (input shape "
                         f"{tuple(a.shape)})")
    order = _order(a, axis)
    index = choose(order, axis) if a.ndim else order
    values = I.Gather.apply(input, index, dim=axis)
    return result(*_drop_dim(values, _indices(index), axis, keepdim))


TENSOR_METHODS = {"sort": sort, "argsort": argsort, "msort": msort, "topk": topk,
                  "kthvalue": kthvalue, "median": median, "nanmedian": nanmedian, "mode": mode}
