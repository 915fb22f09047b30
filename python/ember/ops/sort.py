"""Order statistics on NumPy arrays: stable sort orders (NaN counted as the largest value, as in
PyTorch) and the gradient of a value picked out of the whole tensor."""
import numpy as np

from ..autograd import Function


def sort_order(a, axis, descending=False):
    """Indices that sort a along axis, ties in their original order. Descending sorts the
    reversed array ascending and reverses back, so ties stay in order and NaN comes first."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    order = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return a.shape[axis] - 1 - np.flip(order, axis)


def take_at(order, axis, position):
    """order[..., position, ...] along axis, keeping axis (size 1)."""
    return np.take(order, [position], axis=axis)


class SelectedValue(Function):
    """A value chosen from all of a (median of the whole tensor); the gradient is shared evenly
    by the elements equal to it (all NaNs when it is NaN), as PyTorch's."""

    def forward(self, a, value):
        self.mask = np.isnan(a) if np.isnan(value) else a == value
        return np.asarray(value, a.dtype)

    def backward(self, g):
        return (self.mask * (g / self.mask.sum())).astype(g.dtype, copy=False), None
