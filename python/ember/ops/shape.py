"""Shape ops: reshape, permute, expand, cat, stack, indexing."""
import numpy as np

from .. import _core
from .._errors import wrap_dim
from ..autograd import Function
from ..tensor import Tensor
from ._broadcast import unbroadcast


class Reshape(Function):
    def forward(self, a, shape, op="view"):
        self.in_shape = a.shape
        return _reshaped(a, shape, op)

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    @staticmethod
    def infer(x, shape, op="view"):
        """The output without a graph (as Conv2d.infer)."""
        return Tensor._from_op(_reshaped(x._array, shape, op), None)


def _reshaped(a, shape, op):
    try:
        return a.reshape(shape)
    except ValueError:
        raise _core.ShapeError(f"{op}: shape {list(shape)} is invalid for input of shape "
                               f"{tuple(a.shape)} ({a.size} elements)") from None


class Permute(Function):
    def forward(self, a, dims):
        for d in dims:
            wrap_dim(d, a.ndim)
        if sorted(d % max(a.ndim, 1) for d in dims) != list(range(a.ndim)):
            raise _core.ShapeError(f"permute: dims {tuple(dims)} are not a permutation of the "
                                   f"{a.ndim} dimensions of shape {tuple(a.shape)}")
        self.dims = tuple(d % a.ndim for d in dims)
        return np.transpose(a, self.dims)

    def backward(self, g):
        return (np.transpose(g, np.argsort(self.dims)),)


class Expand(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        lead = len(shape) - a.ndim
        target = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        try:
            return np.broadcast_to(a, target)
        except ValueError:
            raise _core.ShapeError(f"expand: cannot expand shape {tuple(a.shape)} to "
                                   f"{tuple(shape)}") from None

    def backward(self, g):
        return (unbroadcast(g, self.in_shape),)


class Cat(Function):
    def forward(self, *arrays, dim=0):
        if not arrays:
            raise ValueError("cat: expected a non-empty sequence of tensors")
        nd = arrays[0].ndim
        for a in arrays:
            if a.ndim != nd or a.shape[:dim % nd] + a.shape[dim % nd + 1:] != \
                    arrays[0].shape[:dim % nd] + arrays[0].shape[dim % nd + 1:]:
                raise _core.ShapeError(f"cat: sizes must match except in dimension {dim}; got "
                                       f"shapes {[tuple(x.shape) for x in arrays]}")
        self.dim = dim % nd
        self.splits = np.cumsum([a.shape[self.dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=self.dim)

    def backward(self, g):
        return tuple(np.split(g, self.splits, axis=self.dim))


class Stack(Function):
    def forward(self, *arrays, dim=0):
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise _core.ShapeError(f"stack: expects each tensor to be equal size, got shapes "
                                   f"{[tuple(a.shape) for a in arrays]}")
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.moveaxis(g, self.dim, 0))


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


class GetItem(Function):
    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        self.basic = _is_basic(index)
        out = a[index]
        if not isinstance(out, np.ndarray):  # one element: a 0-d view, as t[i] is in PyTorch
            out = a[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        if self.basic:
            grad[self.index] = g
        else:
            np.add.at(grad, self.index, g)  # repeated indices accumulate
        return (grad,)
