"""ember.dot, vdot, mv, outer (ger), inner, cross, kron, tensordot and einsum: vector and tensor
products with PyTorch's checks, built on matmul, elementwise ops and the Einsum node, so all are
differentiable."""
from __future__ import annotations

import string
import warnings

from . import _core
from .arrange_functions import _dim, roll
from .functions import matmul, reshape
from .ops.einsum import Einsum
from .tensor import Tensor


def _shapes(*tensors):
    return " and ".join(str(tuple(t.shape)) for t in tensors)


def _same_dtype(op, a, b):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected both arguments to have the same dtype, but found "
                        f"{a.dtype} and {b.dtype}")


def dot(input, tensor):
    """The inner product of two 1-D tensors of the same length and dtype (a 0-d tensor)."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise _core.ShapeError(f"dot: 1D tensors expected, but got {input.ndim}D and "
                               f"{tensor.ndim}D tensors (shapes {_shapes(input, tensor)})")
    if input.shape[0] != tensor.shape[0]:
        raise _core.ShapeError(f"dot: inconsistent tensor size, expected tensors of the same "
                               f"number of elements, got shapes {_shapes(input, tensor)}")
    _same_dtype("dot", input, tensor)
    return matmul(input, tensor)


vdot = dot  # the same for real tensors (ember has no complex dtype)


def mv(input, vec):
    """Matrix (n, m) times vector (m,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise _core.ShapeError(f"mv: expected a 2-D matrix and a 1-D vector, got shapes "
                               f"{_shapes(input, vec)}")
    if input.shape[1] != vec.shape[0]:
        raise _core.ShapeError(f"mv: size mismatch, got input ({input.shape[0]}), mat "
                               f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _same_dtype("mv", input, vec)
    return matmul(input, vec)


def outer(input, vec2):
    """The (n, m) matrix input[i] * vec2[j] of two 1-D tensors."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise _core.ShapeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D "
                                   f"(shapes {_shapes(input, vec2)})")
    return reshape(input, -1, 1) * reshape(vec2, 1, -1)


ger = outer


def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (without dim: the first dimension of size 3,
    which PyTorch deprecates with a warning, as ember does); input and other broadcast."""
    if input.ndim != other.ndim:
        raise _core.ShapeError(f"cross: inputs must have the same number of dimensions, got "
                               f"shapes {_shapes(input, other)}")
    if input.shape != other.shape:
        input, other = input + other * 0, other + input * 0  # broadcast, keeping gradients
    if dim is None:
        warnings.warn("Using cross without specifying the dim arg is deprecated; pass dim "
                      "(PyTorch's default will become -1, as in linalg.cross).", UserWarning,
                      stacklevel=2)
        dim = next((d for d, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise _core.ShapeError(f"cross: no dimension of size 3 in input (shapes "
                                   f"{_shapes(input, other)})")
    axis = _dim(dim, input.ndim)
    if input.shape[axis] != 3:
        raise _core.ShapeError(f"cross: inputs dimension {dim} must have length 3, got shapes "
                               f"{_shapes(input, other)}")
    # (a x b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3: rolls by -1 and -2.
    return (roll(input, -1, axis) * roll(other, -2, axis)
            - roll(input, -2, axis) * roll(other, -1, axis))


def einsum(equation, *operands):
    """Sums of products given by Einstein notation ('ij,jk->ik', 'bii->b', '...ij,...jk'),
    with operands as arguments or one list; the sublist format is not supported."""
    if not isinstance(equation, str):
        raise NotImplementedError("einsum: the sublist format einsum(op1, sublist1, ...) is not "
                                  "supported by ember; pass an equation string")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(t).__name__}")
    return Einsum.apply(*operands, equation=equation)


def tensordot(a, b, dims=2):
    """Sums over dims pairs of a and b: dims=n pairs a's last n dimensions with b's first n;
    dims=([a dims], [b dims]) names them."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise _core.ShapeError(f"tensordot: dims={dims} out of range for shapes "
                                   f"{_shapes(a, b)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise _core.ShapeError(f"tensordot: both dimension lists should have the same length, "
                               f"got {dims_a} and {dims_b}")
    dims_a = [_dim(d, a.ndim) for d in dims_a]
    dims_b = [_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise _core.ShapeError(f"tensordot: contracted dimensions need the same size, got "
                                   f"{a.shape[da]} (dim {da}) and {b.shape[db]} (dim {db}) for "
                                   f"shapes {_shapes(a, b)}")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        sub_b[db] = sub_a[da]
    out = ([c for i, c in enumerate(sub_a) if i not in dims_a]
           + [c for i, c in enumerate(sub_b) if i not in dims_b])
    return Einsum.apply(a, b, equation=f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}")


def inner(input, other):
    """Sum over the last dimension of both; shape input.shape[:-1] + other.shape[:-1]."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise _core.ShapeError(f"inner: the last dimensions of the inputs must match, got "
                               f"shapes {_shapes(input, other)}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input, other):
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other."""
    nd = max(input.ndim, other.ndim)
    shape_a = (1,) * (nd - input.ndim) + tuple(input.shape)
    shape_b = (1,) * (nd - other.ndim) + tuple(other.shape)
    # Axes interleaved, (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...), then merged in pairs.
    a = reshape(input, *[n for d in shape_a for n in (d, 1)])
    b = reshape(other, *[n for d in shape_b for n in (1, d)])
    return reshape(a * b, *[x * y for x, y in zip(shape_a, shape_b)])
