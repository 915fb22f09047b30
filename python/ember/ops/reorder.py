"""Ops that move elements without changing them: flip and roll (their backward moves the
gradient back), diagonal (and diag of a matrix), diag of a vector, tril and triu."""
import numpy as np

from .. import _core
from ..autograd import Function


class Flip(Function):
    def forward(self, a, axes):
        self.axes = axes
        return np.flip(a, axes).copy()

    def backward(self, g):
        return (np.flip(g, self.axes).copy(),)


class Roll(Function):
    """np.roll: elements pushed past the end come back at the start (flattened if axes is None)."""

    def forward(self, a, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(a, shifts, axes)

    def backward(self, g):
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return (np.roll(g, back, self.axes),)


def _diagonal_positions(shape, offset, dim1, dim2):
    """Row and column indices, along dim1 and dim2, of the diagonal `offset`."""
    rows, cols = shape[dim1], shape[dim2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = np.arange(length)
    return i + max(-offset, 0), i + max(offset, 0)


class Diagonal(Function):
    """The diagonal `offset` of the (dim1, dim2) planes, appended as the last dimension."""

    def forward(self, a, offset=0, dim1=0, dim2=1):
        self.shape, self.args = a.shape, (offset, dim1, dim2)
        return np.diagonal(a, offset, dim1, dim2).copy()

    def backward(self, g):
        offset, dim1, dim2 = self.args
        grad = np.zeros(self.shape, g.dtype)
        rows, cols = _diagonal_positions(self.shape, offset, dim1, dim2)
        np.moveaxis(grad, (dim1, dim2), (-2, -1))[..., rows, cols] = g  # a view of grad
        return (grad,)


class DiagEmbed(Function):
    """The last dimension of a placed on diagonal `offset` of new (dim1, dim2) planes; the
    inverse of Diagonal."""

    def forward(self, a, offset=0, dim1=-2, dim2=-1):
        n = a.shape[-1] + abs(offset) if a.ndim else 1
        nd = a.ndim + 1
        self.args = (offset, dim1 % nd, dim2 % nd)
        out = np.zeros(a.shape[:-1] + (n, n), a.dtype)
        rows, cols = _diagonal_positions(out.shape, offset, -2, -1)
        out[..., rows, cols] = a
        # The new planes are the last two axes; move them to dim1 and dim2.
        return np.moveaxis(out, (-2, -1), self.args[1:]).copy()

    def backward(self, g):
        offset, dim1, dim2 = self.args
        return (np.diagonal(g, offset, dim1, dim2).copy(),)


class DiagMatrix(Function):
    """A square matrix with vector `a` on its diagonal `offset` and zeros elsewhere."""

    def forward(self, a, offset=0):
        self.offset = offset
        return np.diag(a, offset)

    def backward(self, g):
        return (np.diagonal(g, self.offset).copy(),)


class Triangle(Function):
    """tril (upper=False) or triu of the last two dimensions, from diagonal `diagonal`."""

    def forward(self, a, diagonal=0, upper=False):
        if a.ndim < 2:
            raise _core.ShapeError(f"{'triu' if upper else 'tril'}: input tensor must have at "
                                   f"least 2 dimensions, got shape {tuple(a.shape)}")
        self.upper = upper
        self.keep = (np.triu if upper else np.tril)(np.ones(a.shape[-2:], bool), diagonal)
        return np.where(self.keep, a, np.zeros((), a.dtype))

    def backward(self, g):
        return (np.where(self.keep, g, np.zeros((), g.dtype)),)

    def _name(self):
        return "TriuBackward" if self.upper else "TrilBackward"
