"""ember.linalg: the norms of torch.linalg (vector_norm, matrix_norm, norm) and svdvals."""
from __future__ import annotations

import math
import numbers

from . import functions as F
from ._errors import wrap_dim as _wrap_dim
from ._numpy_names import numpy_names as _numpy_names
from .ops.reduce import reduction_axes as _reduction_axes
from .ops.vector_norm import SingularValues as _SingularValues, VectorNorm as _VectorNorm

_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def _floating(op, x, dtype):
    if dtype is not None:
        x = x.to(dtype)
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point tensor as input. Got {x.dtype}")
    return x


@_numpy_names
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    x = _floating("linalg.vector_norm", x, dtype)
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axes = _reduction_axes(dim, x.ndim)
    if ord < 0 and any(x.shape[d] == 0 for d in axes):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           f"tensor of shape {tuple(x.shape)}")
    return _VectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=keepdim)


def svdvals(A):
    A = _floating("linalg.svdvals", A, None)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: The input tensor A must have at least 2 dimensions,"
                           f" got shape {tuple(A.shape)}")
    return _SingularValues.apply(A)


@_numpy_names
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    A = _floating("linalg.matrix_norm", A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got shape {tuple(A.shape)}")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord!r} not supported; expected one of "
                           f"{_MATRIX_ORDS}")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple, got {dim!r}")
    rows, cols = (_wrap_dim(d, A.ndim) for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim!r}")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):  # from the singular values
        rest = [d for d in range(A.ndim) if d not in (rows, cols)]
        s = svdvals(F.permute(A, *rest, rows, cols))
        out = F.sum(s, -1) if ord == "nuc" else (F.amax if ord == 2 else F.amin)(s, -1)
        for d in sorted((rows, cols)) if keepdim else ():
            out = F.unsqueeze(out, d)
        return out
    # 1 / -1: the largest / smallest column sum of |A|; inf / -inf: the same over row sums
    summed, over = (rows, cols) if abs(ord) == 1 else (cols, rows)
    out = (F.amax if ord > 0 else F.amin)(F.sum(F.abs(A), summed, keepdim=True), over,
                                          keepdim=True)
    return out if keepdim else F.squeeze(out, (rows, cols))


@_numpy_names
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm over one dim (or all of a 1-D input), a matrix norm over two (or a 2-D
    input given ord); without ord and dim, the 2-norm of all elements."""
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got shape {tuple(A.shape)}")
        dim = tuple(range(A.ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 1:
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                       f"{dim!r}")


def tensor_norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm and Tensor.norm: 'fro' (or a number) is a vector norm over dim (all elements
    by default); 'nuc' the nuclear norm of a matrix."""
    if out is not None:
        raise NotImplementedError("norm(out=...): ember has no out= arguments")
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        return matrix_norm(input, p, tuple(range(input.ndim)) if dims is None else dims,
                           keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


# Last: public functions raise PyTorch's errors, never an internal one (issue 11).
from ._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__)
