"""Copies of a tensor laid side by side: repeat (tile) and repeat_interleave; their backward
sums the gradient of every copy back into the element it came from."""
import math

import numpy as np

from .. import _core
from .._bounds import check_alloc, check_int64
from ..autograd import Function


class Repeat(Function):
    """a repeated sizes[i] times along each dimension i (a gets leading 1s to len(sizes) dims)."""

    def forward(self, a, sizes):
        if len(sizes) < a.ndim:
            raise _core.ShapeError(f"repeat: number of dimensions of repeat dims {tuple(sizes)} "
                                   f"can not be smaller than number of dimensions of the tensor "
                                   f"{tuple(a.shape)}")
        if any(s < 0 for s in sizes):
            raise ValueError(f"repeat: repeats can not be negative, got {tuple(sizes)}")
        self.padded = (1,) * (len(sizes) - a.ndim) + a.shape
        check_int64("repeat", "repeats", tuple(sizes))
        self.in_shape = a.shape
        self.sizes = sizes
        out_shape = tuple(n * s for n, s in zip(self.padded, sizes))
        if math.prod(out_shape) * a.itemsize >= 2**63:  # np.tile's size arithmetic overflows
            raise RuntimeError(f"repeat: the result of shape {out_shape} from shape "
                               f"{tuple(a.shape)} is larger than any tensor can be")
        check_alloc("repeat", out_shape, a.itemsize)
        return np.tile(a.reshape(self.padded), sizes)

    def backward(self, g):
        # Output axis i of length r*s splits into (r, s); summing the r axes adds the copies.
        split = [n for pair in zip(self.sizes, self.padded) for n in pair]
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (g.reshape(self.in_shape),)


class RepeatInterleave(Function):
    """Each element repeated repeats[i] times in place along axis (the flattened input when
    axis is None); repeats is an int or a 1-D int array of one count per element (or one)."""

    def forward(self, a, repeats, axis=None):
        self.in_shape = a.shape
        if axis is None:
            a, axis = a.reshape(-1), 0
        n = a.shape[axis]
        counts = np.asarray(repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise ValueError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, "
                             f"got {counts.ndim}-D of dtype {counts.dtype}")
        if counts.ndim == 1 and counts.size not in (1, n):
            raise _core.ShapeError(f"repeat_interleave: repeats must have the same size as input "
                                   f"along dim {axis} ({n}) or 1, got {counts.size}")
        if (counts < 0).any():
            raise ValueError("repeat_interleave: repeats can not be negative")
        per = counts.reshape(-1)
        total = int(per.sum(dtype=object)) if per.size == n else int(per[0]) * n
        # the index of every output row (int64), then the rows themselves
        check_alloc("repeat_interleave", (total, a.size // max(n, 1)), max(a.itemsize, 8))
        self.axis, self.n = axis, n
        self.source = np.repeat(np.arange(n), np.broadcast_to(counts.reshape(-1), (n,)))
        return np.take(a, self.source, axis=axis)

    def backward(self, g):
        moved = np.moveaxis(g, self.axis, 0)
        grad = np.zeros((self.n,) + moved.shape[1:], g.dtype)
        np.add.at(grad, self.source, moved)
        return (np.moveaxis(grad, 0, self.axis).reshape(self.in_shape),)
