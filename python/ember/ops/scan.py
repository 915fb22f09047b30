"""Cumulative sum and product along one dimension."""
import numpy as np

from ..autograd import Function


def _reverse_cumsum(g, axis):
    """out[i] = sum of g[j] for j >= i along axis."""
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


class CumSum(Function):
    def forward(self, a, axis):
        self.axis = axis
        return np.cumsum(a, axis=axis) if a.ndim else a.copy()

    def backward(self, g):
        return (_reverse_cumsum(g, self.axis) if g.ndim else g,)


class CumProd(Function):
    """Backward without dividing by zero: along each line, the inputs before the first zero get
    sum_{j>=i} g_j out_j / x_i over the outputs before that zero; the first zero itself gets
    sum_{j>=z} g_j prod_{k<=j, k!=z} x_k; inputs after it get nothing (a zero precedes them
    in every product they enter)."""

    def forward(self, a, axis):
        self.a, self.axis = a, axis
        self.out = np.cumprod(a, axis=axis) if a.ndim else a.copy()
        return self.out

    def backward(self, g):
        if g.ndim == 0:
            return (g,)
        moved = np.moveaxis(g, self.axis, -1)
        n = moved.shape[-1]
        x = np.moveaxis(self.a, self.axis, -1).reshape(-1, n)
        out = np.moveaxis(self.out, self.axis, -1).reshape(-1, n)
        gm = moved.reshape(-1, n)
        zero = x == 0
        before_zero = np.cumsum(zero, axis=-1) == 0  # positions before a line's first zero
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = _reverse_cumsum(np.where(before_zero, gm * out, 0), -1) / x
        grad = np.where(before_zero, grad, 0).astype(g.dtype, copy=False)
        for line in np.flatnonzero(zero.any(axis=-1)):  # lines holding a zero
            z = int(np.argmax(zero[line]))
            prefix = out[line, z - 1] if z else 1
            # prod_{k<=j, k!=z} x_k for j >= z: the prefix before z times x's products after z
            partial = prefix * np.cumprod(np.concatenate(([1], x[line, z + 1:])))
            grad[line, z] = np.sum(gm[line, z:] * partial)
        return (np.moveaxis(grad.reshape(moved.shape), -1, self.axis),)
