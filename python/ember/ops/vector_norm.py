"""Vector p-norms and singular values, with PyTorch's gradients at the awkward points: zero
where the norm is zero, the inf-norm's gradient shared by the largest |x| (NaNs included)."""
import math

import numpy as np

from ..autograd import Function
from .reduce import _expand_back


class VectorNorm(Function):
    def forward(self, a, ord, axes, keepdim):
        self.a, self.ord, self.axes, self.keepdim = a, ord, axes, keepdim
        absa = np.abs(a)
        if ord == math.inf:
            out = np.max(absa, axis=axes, keepdims=keepdim)
        elif ord == -math.inf:
            out = np.min(absa, axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = np.count_nonzero(a, axis=axes, keepdims=keepdim).astype(a.dtype)
        elif ord == 1:
            out = np.sum(absa, axis=axes, keepdims=keepdim)
        elif ord == 2:
            out = np.sqrt(np.sum(absa * absa, axis=axes, keepdims=keepdim))
        else:
            out = np.sum(absa ** ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)
        self.out = np.asarray(out, a.dtype)
        return self.out

    def backward(self, g):
        a, p = self.a, self.ord
        g = _expand_back(g, a.shape, self.axes, self.keepdim)
        norm = _expand_back(self.out, a.shape, self.axes, self.keepdim)
        if p == 0:  # piecewise constant: no gradient, and (as PyTorch) no .grad at all
            return (None,)
        if p == 1:
            return (np.sign(a) * g,)
        absa = np.abs(a)
        if math.isinf(p):
            mask = (absa == norm) | np.isnan(absa)
            count = _expand_back(mask.sum(axis=self.axes, keepdims=True), a.shape, self.axes,
                                 True)
            return ((np.sign(a) * mask * g / count).astype(a.dtype, copy=False),)
        with np.errstate(divide="ignore", invalid="ignore"):
            # d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1); 0 where x or the norm is 0
            scaled = np.where(absa == 0, 0, np.sign(a) * absa ** (p - 1))
            grad = np.where(norm == 0, 0, scaled * g / norm ** (p - 1))
        return (grad.astype(a.dtype, copy=False),)


class SingularValues(Function):
    """Singular values of the matrices in the last two dims, largest first. d sigma_i / dA =
    u_i v_i^T (distinct singular values, as PyTorch assumes)."""

    def forward(self, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        self.u, self.vh = u, vh
        return s.astype(a.dtype, copy=False)

    def backward(self, g):
        return (((self.u * g[..., None, :]) @ self.vh).astype(g.dtype, copy=False),)
