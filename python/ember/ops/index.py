"""Indexing ops along a dimension: gather, scatter (set, add, multiply), index_select, take and
masked_select. Validation and the coordinates of the selected elements live here, once, so
forward and backward read the same positions."""
import numpy as np

from .. import _core
from ..autograd import Function
from ._broadcast import unbroadcast
from .reduce import normalize_dims


def check_index_dtype(op, index):
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected an integer index tensor, got dtype {index.dtype}")


def check_in_range(op, index, size, dim, shapes, allow_negative=False):
    """Raises IndexError naming op and shapes when an index falls outside [0, size) (or
    [-size, size) when negative indices count from the end)."""
    if index.size == 0:
        return
    low = -size if allow_negative else 0
    lo, hi = int(index.min()), int(index.max())
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size "
                         f"{size} ({shapes})")


def _shapes(**arrays):
    return ", ".join(f"{name} shape {tuple(a.shape)}" for name, a in arrays.items())


def along_dim_coords(index, dim):
    """Coordinates of the elements that index (an array with the input's ndim) selects along
    dim: the element at position p of index is position p with p[dim] replaced by index[p]."""
    coords = list(np.indices(index.shape, sparse=True))
    coords[dim] = index
    return tuple(coords)


def check_gather_shapes(op, a, index, dim, src=None):
    """PyTorch's rules: index has the input's ndim and is no larger than it (than src too, for
    scatter) in every dimension but dim."""
    if index.ndim != max(a.ndim, 1) and not (a.ndim == 0 and index.ndim == 0):
        raise _core.ShapeError(f"{op}(): index must have as many dimensions as input; got "
                               f"{_shapes(input=a, index=index)}")
    if src is not None and src.ndim != index.ndim and src.ndim:
        raise _core.ShapeError(f"{op}(): src must have as many dimensions as index; got "
                               f"{_shapes(input=a, index=index, src=src)}")
    for d in range(index.ndim):
        if (d != dim and a.ndim and index.shape[d] > a.shape[d]) or (
                src is not None and src.ndim and index.shape[d] > src.shape[d]):
            arrays = dict(input=a, index=index) if src is None else dict(input=a, index=index,
                                                                          src=src)
            raise _core.ShapeError(f"{op}(): index is larger than input apart from dimension "
                                   f"{dim}{'' if src is None else ' or larger than src'} at "
                                   f"dimension {d}; got {_shapes(**arrays)}")


def leading_region(shape):
    """The slices that take the first shape[d] elements of every dim d (scatter reads only
    that much of src)."""
    return tuple(slice(0, n) for n in shape)


class Gather(Function):
    """out[p] = a[p with p[dim] = index[p]]; also the value half of sort, topk, median ..."""

    def forward(self, a, index, dim):
        self.shape, self.dim = a.shape, dim
        a1, idx = np.atleast_1d(a), np.atleast_1d(index)
        self.coords = along_dim_coords(idx, dim)
        return a1[self.coords].reshape(index.shape)

    def backward(self, g):
        grad = np.zeros(self.shape or (1,), g.dtype)
        np.add.at(grad, self.coords, g.reshape(self.coords[self.dim].shape))
        return grad.reshape(self.shape), None


class Scatter(Function):
    """a with the positions index selects along dim set to (or added to, or multiplied by) src,
    or the scalar `value` when src is None."""

    def forward(self, a, index, src, dim, reduce=None, value=None):
        self.shape, self.dim, self.reduce = a.shape, dim, reduce
        self.src_shape = None if src is None else src.shape
        a1, idx = np.atleast_1d(a), np.atleast_1d(index)
        self.coords = along_dim_coords(idx, dim)
        values = (np.asarray(value, a.dtype) if src is None
                  else np.atleast_1d(src)[leading_region(idx.shape)])
        out = a1.copy()
        if reduce is None:
            out[self.coords] = values
        elif reduce == "add":
            np.add.at(out, self.coords, values)
        else:
            np.multiply.at(out, self.coords, values)
        return out.reshape(a.shape)

    def backward(self, g):
        if self.reduce == "multiply":
            raise NotImplementedError("scatter(reduce='multiply'): the derivative is not "
                                      "implemented (as in PyTorch)")
        g1 = np.atleast_1d(g)
        ga = gs = None
        if self.needs_input_grad[0]:
            ga = g1.copy()
            if self.reduce is None:  # overwritten positions get no gradient
                ga[self.coords] = 0
            ga = ga.reshape(self.shape)
        if self.src_shape is not None and self.needs_input_grad[2]:
            gs = np.zeros(self.src_shape or (1,), g.dtype)
            gs[leading_region(self.coords[self.dim].shape)] = g1[self.coords]
            gs = gs.reshape(self.src_shape)
        return ga, None, gs


class IndexSelect(Function):
    def forward(self, a, index, dim):
        self.shape, self.dim, self.index = a.shape, dim, index
        return np.take(a, index, axis=dim) if a.ndim else a[()] * np.ones(index.shape, a.dtype)

    def backward(self, g):
        if not self.shape:
            return np.asarray(g.sum(), g.dtype), None
        grad = np.zeros(self.shape, g.dtype)
        np.add.at(grad, (slice(None),) * self.dim + (self.index,), g)  # repeats accumulate
        return grad, None


class Take(Function):
    """The input read as 1-D at `index` (negative indices count from the end)."""

    def forward(self, a, index):
        self.shape, self.index = a.shape, index
        return a.reshape(-1)[index]

    def backward(self, g):
        grad = np.zeros(int(np.prod(self.shape)), g.dtype)
        np.add.at(grad, self.index, g)
        return grad.reshape(self.shape), None


class MaskedSelect(Function):
    """The elements of a where mask (both broadcast to one shape) is True, as a 1-D array."""

    def forward(self, a, mask):
        try:
            shape = np.broadcast_shapes(a.shape, mask.shape)
        except ValueError:
            raise _core.ShapeError(f"masked_select(): mask cannot be broadcast to input; got "
                                   f"{_shapes(input=a, mask=mask)}") from None
        self.a_shape, self.mask = a.shape, np.broadcast_to(mask, shape)
        return np.broadcast_to(a, shape)[self.mask]

    def backward(self, g):
        grad = np.zeros(self.mask.shape, g.dtype)
        grad[self.mask] = g
        return unbroadcast(grad, self.a_shape), None


def dim_of(op, dim, ndim):
    """One dimension, checked, as a non-negative axis (0 for a 0-d tensor, as PyTorch)."""
    if dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): dim must be an int, got {dim!r}")
    return normalize_dims(dim, ndim)[0]
