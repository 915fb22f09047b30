"""ember.* functions that repeat, reorder or select the elements of a tensor: repeat,
repeat_interleave, tile, flip, fliplr, flipud, roll, rot90, narrow, diag, diagonal, diag_embed,
trace, tril, triu.
Each is differentiable (its backward routes the gradient back to the source elements)."""
from __future__ import annotations

import numpy as np

from . import _core
from .functions import _size_args, _wrap_const, sum as _sum
from .ops.reduce import normalize_dims
from .ops.repeat import Repeat, RepeatInterleave
from .ops.reorder import DiagEmbed, DiagMatrix, Diagonal, Flip, Roll, Triangle
from .ops.shape import GetItem
from .tensor import Tensor


def _dim(d, ndim):
    """One dimension index, checked (IndexError naming the range) and made non-negative."""
    if isinstance(d, (Tensor, np.integer)):
        d = int(d)
    return normalize_dims(d, ndim)[0]


def repeat(input, *sizes):
    """Tensor.repeat(*sizes): the tensor tiled sizes[i] times along dimension i."""
    return Repeat.apply(input, sizes=_size_args(sizes))


def tile(input, dims):
    """Like repeat, except that fewer dims than the tensor has are padded with leading 1s."""
    dims = _size_args((dims,) if isinstance(dims, int) else tuple(dims))
    return Repeat.apply(input, sizes=(1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (an int, or one count per element along dim);
    repeat_interleave(counts) alone gives each index i repeated counts[i] times."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = input._array if isinstance(input, Tensor) else np.asarray(input)
        return repeat_interleave(_wrap_const(np.arange(counts.size, dtype=np.int64)), input,
                                 output_size=output_size)
    counts = repeats._array if isinstance(repeats, Tensor) else repeats
    if isinstance(counts, bool) or not isinstance(counts, (int, np.integer, np.ndarray)):
        raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, got "
                        f"{type(repeats).__name__}")
    axis = None if dim is None else _dim(dim, input.ndim)
    out = RepeatInterleave.apply(input, repeats=counts, axis=axis)
    if output_size is not None and out.shape[0 if axis is None else axis] != output_size:
        raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats give "
                         f"{out.shape[0 if axis is None else axis]}")
    return out


def flip(input, *dims):
    """flip(input, dims): reverses the order of elements along each of dims."""
    dims = _size_args(dims)
    axes = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims {tuple(dims)} has a dimension repeated")
    return Flip.apply(input, axes=axes)


def fliplr(input):
    if input.ndim < 2:
        raise _core.ShapeError(f"fliplr: input must be >= 2-d, got shape {tuple(input.shape)}")
    return Flip.apply(input, axes=(1,))


def flipud(input):
    if input.ndim < 1:
        raise _core.ShapeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return Flip.apply(input, axes=(0,))


def roll(input, shifts, dims=None):
    """Elements shifted along dims, wrapping around; without dims the flattened tensor is
    rolled and the shape restored."""
    as_tuple = not isinstance(shifts, (int, np.integer))
    shifts = tuple(int(s) for s in shifts) if as_tuple else int(shifts)
    if dims is None:
        if as_tuple and len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} need dims of the same length")
        return Roll.apply(input, shifts=shifts[0] if as_tuple else shifts, axes=None)
    dims = tuple(dims) if not isinstance(dims, (int, np.integer)) else (dims,)
    shifts = shifts if as_tuple else (shifts,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    return Roll.apply(input, shifts=shifts, axes=tuple(_dim(d, input.ndim) for d in dims))


def narrow(input, dim, start, length):
    """The elements start .. start+length-1 along dim (start may be negative or a 0-d tensor)."""
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {dim} of size "
                         f"{size} (shape {tuple(input.shape)})")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}) of shape {tuple(input.shape)}")
    return GetItem.apply(input, index=(slice(None),) * axis + (slice(start, start + length),))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` of each (dim1, dim2) plane, as the last dimension."""
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag(input, diagonal=0):
    """A vector becomes a square matrix with it on diagonal `diagonal`; a matrix gives that
    diagonal as a vector."""
    if input.ndim == 1:
        return DiagMatrix.apply(input, offset=int(diagonal))
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise _core.ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D (shape "
                           f"{tuple(input.shape)})")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose (dim1, dim2) planes have the last dimension of input on their diagonal
    `offset` and zeros elsewhere."""
    if input.ndim == 0:
        raise _core.ShapeError("diag_embed: expected a tensor with at least 1 dimension")
    d1, d2 = _dim(dim1, input.ndim + 1), _dim(dim2, input.ndim + 1)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def rot90(input, k=1, dims=(0, 1)):
    """Rotation by 90 degrees k times in the plane of dims, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise _core.ShapeError(f"rot90: expected total dims >= 2, but got total dims = "
                               f"{input.ndim}")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} "
                           f"and dim1 = {d1}")
    k %= 4
    if k == 0:
        return input.clone()
    if k == 2:
        return Flip.apply(input, axes=(d0, d1))
    if k == 1:
        return Flip.apply(input, axes=(d1,)).transpose(d0, d1)
    return Flip.apply(input.transpose(d0, d1), axes=(d1,))


def trace(input):
    """Sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise _core.ShapeError(f"trace: expected a matrix, but got tensor with dim {input.ndim} "
                               f"(shape {tuple(input.shape)})")
    return _sum(Diagonal.apply(input, offset=0, dim1=0, dim2=1))


def tril(input, diagonal=0):
    """The lower triangle of the last two dimensions (on and below diagonal `diagonal`)."""
    return Triangle.apply(input, diagonal=int(diagonal), upper=False)


def triu(input, diagonal=0):
    return Triangle.apply(input, diagonal=int(diagonal), upper=True)
