"""Resampling of the spatial dimensions (nearest, nearest-exact, linear), one axis at a time.

Each output position along an axis reads one input position (nearest) or two with weights
(linear); several axes apply one after another, the last axis first as PyTorch's kernel nests
them. The source positions follow PyTorch's arithmetic exactly (its float32 index maths for
nearest, the input's dtype for linear), so non-integer scales pick the same pixels.
"""
import numpy as np

from ..autograd import Function


def _ratio(in_size, out_size, scale, dtype):
    """Input positions per output position: 1 / scale_factor when given, else in / out."""
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_taps(in_size, out_size, scale, exact, shortcuts):
    """[(source index per output position, None)]; 'nearest' floors o * ratio, 'nearest-exact'
    (o + 0.5) * ratio, in float32 as PyTorch does. With shortcuts (PyTorch's 2-D 'nearest'
    kernel has them, its 1-D one not) out == in copies and out == 2 * in halves, whatever the
    scale factor says."""
    o = np.arange(out_size)
    if shortcuts and out_size == in_size:
        return [(o, None)]
    if shortcuts and out_size == 2 * in_size:
        return [(o >> 1, None)]
    f32 = np.dtype(np.float32)
    ratio = _ratio(in_size, out_size, scale, f32)
    position = (o.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * ratio
    return [(np.minimum(np.floor(position).astype(np.int64), in_size - 1), None)]


def linear_taps(in_size, out_size, scale, align_corners, dtype):
    """[(left index, its weight), (right index, its weight)] per output position."""
    o = np.arange(out_size)
    if out_size == in_size:
        return [(o, np.ones(out_size, dtype)), (o, np.zeros(out_size, dtype))]
    t = dtype.type
    if align_corners:
        ratio = t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
        position = ratio * o.astype(dtype)
    else:
        ratio = _ratio(in_size, out_size, scale, dtype)
        position = np.maximum(ratio * (o.astype(dtype) + t(0.5)) - t(0.5), t(0))
    left = np.minimum(np.floor(position).astype(np.int64), in_size - 1)
    right_weight = np.clip(position - left.astype(dtype), t(0), t(1)).astype(dtype)
    right = left + (left < in_size - 1)
    return [(left, t(1) - right_weight), (right, right_weight)]


def _along(shape_len, axis, weights):
    """weights shaped to broadcast along `axis` of an array with shape_len dimensions."""
    return weights.reshape((-1,) + (1,) * (shape_len - axis - 1))


def _scatter_sum(values, index, size, axis):
    """out[..., i, ...] = sum of values[..., o, ...] over o with index[o] == i. index is
    non-decreasing, so each i's sources are one run of o: the k-th element of every run is
    added in one gather, k = 0, 1, ..., runs shorter than k reading a zero appended to values
    (np.add.reduceat along a trailing axis measured 10x slower than these gathers)."""
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    lengths = np.diff(np.r_[starts, len(index)])
    sums = np.take(values, starts, axis=axis)
    padded = None
    for k in range(1, int(lengths.max(initial=1))):
        source = starts + k
        if (lengths > k).all():
            sums += np.take(values, source, axis=axis)
            continue
        if padded is None:
            zero = np.zeros_like(np.take(values, [0], axis=axis))
            padded = np.concatenate([values, zero], axis=axis)
        sums += np.take(padded, np.where(lengths > k, source, len(index)), axis=axis)
    if len(starts) == size:  # every input position is read (upsampling)
        return sums
    shape = list(values.shape)
    shape[axis] = size
    out = np.zeros(shape, values.dtype)
    out[(slice(None),) * axis + (index[starts],)] = sums
    return out


class Interpolate(Function):
    """inputs: (input,); `taps` holds, per resampled axis in the order applied, (axis, input
    size, [(source index, weight or None), ...])."""

    def forward(self, x, taps):
        self.taps = taps
        for axis, _, axis_taps in taps:
            out = None
            for index, weight in axis_taps:
                term = np.take(x, index, axis=axis)
                if weight is not None:
                    term = term * _along(x.ndim, axis, weight)
                out = term if out is None else out + term
            x = out
        return x

    def backward(self, g):
        for axis, in_size, axis_taps in reversed(self.taps):
            grad = None
            for index, weight in axis_taps:
                values = g if weight is None else g * _along(g.ndim, axis, weight)
                term = _scatter_sum(values, index, in_size, axis)
                grad = term if grad is None else grad + term
            g = grad
        return (g,)
