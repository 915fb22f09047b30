"""Product over dimensions. Each input's gradient is the product of the other elements,
built from exclusive prefix and suffix products: no division, so zeros are exact."""
import numpy as np

from ..autograd import Function
from .reduce import _expand_back


class Prod(Function):
    def forward(self, a, axes, keepdim):
        self.a, self.axes, self.keepdim = a, axes, keepdim
        return np.asarray(np.prod(a, axis=axes, keepdims=keepdim))

    def backward(self, g):
        a, axes = self.a, self.axes
        g = _expand_back(g, a.shape, axes, self.keepdim)
        if a.size == 0:
            return (np.zeros_like(g),)
        order = [d for d in range(a.ndim) if d not in axes] + list(axes)
        moved = np.transpose(a, order)
        lines = moved.reshape(-1, int(np.prod([a.shape[d] for d in axes], dtype=np.int64)))
        ones = np.ones((lines.shape[0], 1), a.dtype)
        before = np.cumprod(np.concatenate([ones, lines[:, :-1]], 1), 1)
        after = np.flip(np.cumprod(np.concatenate([ones, np.flip(lines[:, 1:], 1)], 1), 1), 1)
        others = np.transpose((before * after).reshape(moved.shape), np.argsort(order))
        return (others * g,)
