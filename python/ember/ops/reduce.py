"""Reductions over dimensions: sum, mean, max/min, var."""
import math

import numpy as np

from ..autograd import Function


def normalize_dims(dim, ndim):
    """dim (None, int or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def reduction_axes(dim, ndim):
    """normalize_dims for NumPy's reductions: a 0-d tensor accepts dim 0 or -1 (as PyTorch)
    but has no axis for NumPy to reduce."""
    axes = normalize_dims(dim, ndim)
    return axes if ndim else ()


def _expand_back(g, shape, axes, keepdim):
    """A reduced gradient broadcast back to the input's shape, as a new array (ndarray methods
    only: np.expand_dims and np.broadcast_to cost microseconds in Python)."""
    if not keepdim and shape:
        g = g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))
    out = np.empty(shape, g.dtype)
    out[...] = g
    return out


class Sum(Function):
    new_grads = True

    def forward(self, a, dim=None, keepdim=False, dtype=None):
        self.shape, self.src = a.shape, a.dtype
        self.axes = reduction_axes(dim, a.ndim)
        out = np.sum(a, axis=self.axes, keepdims=keepdim, dtype=dtype)
        if a.dtype.kind in "biu" and dtype is None:
            out = out.astype(np.int64)
        self.keepdim = keepdim
        return np.asarray(out)

    def backward(self, g):
        return (_expand_back(g, self.shape, self.axes, self.keepdim).astype(self.src, copy=False),)


class Mean(Function):
    new_grads = True

    def forward(self, a, dim=None, keepdim=False):
        if a.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be a "
                               f"floating point dtype, got {a.dtype}")
        self.shape, self.keepdim = a.shape, keepdim
        self.axes = reduction_axes(dim, a.ndim)
        self.count = math.prod([a.shape[i] for i in self.axes])
        # np.mean's arithmetic (the sum in a's dtype, then one division) without its Python
        # wrapper, which costs more than the sum of a small array.
        total = np.add.reduce(a, axis=self.axes, keepdims=keepdim)
        if self.count == 0:  # the mean of nothing is NaN, as in PyTorch (no NumPy warning)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.asarray(total / self.count)
        return np.asarray(total / self.count)

    def backward(self, g):
        return (_expand_back(g / self.count, self.shape, self.axes, self.keepdim),)


class MaxAll(Function):
    """max()/min() of all elements, or amax/amin over `dim`; ties share the gradient evenly, as
    in PyTorch."""

    def forward(self, a, take_max=True, dim=None, keepdim=False):
        if a.size == 0 and dim is None:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        self.shape, self.keepdim = a.shape, keepdim
        self.axes = reduction_axes(dim, a.ndim)
        for axis in self.axes:  # an empty input is fine if the reduced dims are not empty
            if a.shape[axis] == 0:
                raise IndexError(f"{'amax' if take_max else 'amin'}(): Expected reduction dim "
                                 f"{axis} to have non-zero size.")
        out = (np.max if take_max else np.min)(a, axis=self.axes, keepdims=True)
        self.mask = a == out
        return np.asarray(out if keepdim else out.reshape(
            [n for i, n in enumerate(a.shape) if i not in self.axes]))

    def backward(self, g):
        g = g if self.keepdim else g.reshape(
            [1 if i in self.axes else n for i, n in enumerate(self.shape)])
        count = self.mask.sum(axis=self.axes, keepdims=True)
        return ((self.mask * (g / count)).astype(g.dtype, copy=False),)


class MaxDim(Function):
    """Values of max/min along one dim; gradient goes to the returned index."""

    def forward(self, a, indices, dim, keepdim):
        self.shape, self.indices, self.dim, self.keepdim = a.shape, indices, dim, keepdim
        return np.take_along_axis(a, np.expand_dims(indices, dim), dim).squeeze(dim) \
            if not keepdim else np.take_along_axis(a, indices, dim)

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        idx = self.indices if self.keepdim else np.expand_dims(self.indices, self.dim)
        gg = g if self.keepdim else np.expand_dims(g, self.dim)
        np.put_along_axis(grad, idx, gg, self.dim)
        return grad, None  # no gradient for the indices


class Var(Function):
    def forward(self, a, dim=None, correction=1, keepdim=False):
        if a.dtype.kind != "f":
            raise RuntimeError(f"var(): input dtype must be floating point, got {a.dtype}")
        self.a, self.keepdim = a, keepdim
        self.axes = reduction_axes(dim, a.ndim)
        n = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        self.denom = max(n - correction, 0)
        self.mean = np.mean(a, axis=self.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sum((a - self.mean) ** 2, axis=self.axes, keepdims=keepdim)
                              / a.dtype.type(self.denom))

    def backward(self, g):
        g = _expand_back(g, self.a.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2 * (self.a - self.mean) / self.a.dtype.type(self.denom)),)
