"""The ember.* functions of the PyTorch face that compute on tensors (math, reductions, shapes)."""
from __future__ import annotations

import math
import warnings
from collections import namedtuple

import numpy as np

from . import autograd
from ._errors import ShapeError, broadcast_error, wrap_dim
from ._numpy_names import numpy_names
from .indexing import nonzero
from .ops import elementwise as E, linalg as L, prod as P, reduce as R, shape as S
from .ops.activation import Activation, Softmax
from .ops._broadcast import result_type
from .ops.reduce import normalize_dims
from .ops.unary_math import Rounding
from .tensor import Tensor

return_max = namedtuple("max", ["values", "indices"])
return_min = namedtuple("min", ["values", "indices"])


def _operand(x):
    """Tensors stay tensors; Python scalars and arrays are constants for the op."""
    if isinstance(x, Tensor) or isinstance(x, (int, float, bool, np.ndarray, np.generic)):
        return x
    if isinstance(x, (list, tuple)):
        try:
            arr = np.asarray(x)
        except ValueError:  # ragged nesting
            arr = None
        if arr is not None and arr.dtype.kind in "biufc":
            return arr
        raise TypeError(f"unsupported operand: a list must hold numbers in a regular nesting, "
                        f"got {str(x):.60}")
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _arr(x):
    return x._array if isinstance(x, Tensor) else x


def _wrap_const(array):
    return Tensor._from_op(np.asarray(array), None)


# ---- arithmetic ------------------------------------------------------------------------------
def add(input, other, *, alpha=1):
    return E.Add.apply(_operand(input), _operand(other) if alpha == 1 else mul(other, alpha))


def sub(input, other, *, alpha=1):
    return E.Sub.apply(_operand(input), _operand(other) if alpha == 1 else mul(other, alpha))


def mul(input, other):
    return E.Mul.apply(_operand(input), _operand(other))


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return E.Div.apply(_operand(input), _operand(other))
    fn = {"floor": np.floor_divide, "trunc": lambda a, b: np.trunc(np.true_divide(a, b))}
    if rounding_mode not in fn:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    out = fn[rounding_mode](_arr(input), _arr(other))
    return _wrap_const(out.astype(result_type(_arr(input), _arr(other)), copy=False))


def pow(input, exponent):
    return E.Pow.apply(_operand(input), _operand(exponent))


def neg(input):
    return E.Neg.apply(input)


def exp(input):
    return E.Exp.apply(input)


def log(input):
    return E.Log.apply(input)


def sqrt(input):
    return E.Sqrt.apply(input)


def abs(input):
    return E.Abs.apply(input)


def sin(input):
    return E.Sin.apply(input)


def cos(input):
    return E.Cos.apply(input)


def square(input):
    return E.Mul.apply(input, input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    return E.Clamp.apply(input, min=_arr(min), max=_arr(max))


clip = clamp


def maximum(input, other):
    return E.Maximum.apply(input, _operand(other), take_max=True)


def minimum(input, other):
    return E.Maximum.apply(input, _operand(other), take_max=False)


def where(condition, input=None, other=None):
    """where(condition, input, other): input where condition is True, else other (tensors or
    scalars, broadcast). where(condition): nonzero(condition, as_tuple=True)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected both input and other, or neither")
    cond = np.asarray(_arr(condition))
    if cond.dtype != np.bool_:
        if cond.dtype != np.uint8:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {cond.dtype}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated; "
                      "use a boolean condition instead.", UserWarning, stacklevel=2)
        cond = cond.astype(bool)
    return E.Where.apply(cond, _operand(input), _operand(other))


def sign(input):
    return Rounding.apply(input, kind="sign")


def floor(input):
    return Rounding.apply(input, kind="floor")


def round(input, decimals=0):
    return Rounding.apply(input, kind="round", decimals=decimals)


# ---- activations -----------------------------------------------------------------------------
def relu(input):
    return _activation(input, "relu")


def sigmoid(input):
    return _activation(input, "sigmoid")


def tanh(input):
    return _activation(input, "tanh")


def _activation(input, kind):
    if autograd._state.enabled or not isinstance(input, Tensor):
        return Activation.apply(input, kind=kind)
    return Activation.infer(input, kind)  # no graph: no node (inference latency)


def softmax(input, dim, dtype=None):
    return _softmax(input if dtype is None else input.to(dtype), dim, False)


def log_softmax(input, dim, dtype=None):
    return _softmax(input if dtype is None else input.to(dtype), dim, True)


def _softmax(input, dim, log):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{'log_softmax' if log else 'softmax'}(): argument 'dim' must be int, "
                        f"not {type(dim).__name__}")
    if isinstance(input, Tensor) and input.ndim == 0:  # PyTorch: a 0-d softmax is 1 (log: 0)
        wrap_dim(dim, 0)
        return squeeze(_softmax(unsqueeze(input, 0), 0, log), 0)
    if autograd._state.enabled or not isinstance(input, Tensor):
        return Softmax.apply(input, dim=dim, log=log)
    return Softmax.infer(input, dim, log)


# ---- comparisons and logic (never differentiable) ---------------------------------------------
def _compare(ufunc):
    def compare(input, other):
        a, b = _arr(input), _arr(_operand(other))
        try:
            return _wrap_const(ufunc(a, b))
        except ValueError as e:
            raise broadcast_error(ufunc.__name__, e, (a, b)) from None
    compare.__name__ = ufunc.__name__
    return compare


eq, ne, lt, le, gt, ge = (_compare(u) for u in (np.equal, np.not_equal, np.less, np.less_equal,
                                                 np.greater, np.greater_equal))
logical_and, logical_or, logical_xor = (_compare(u) for u in (np.logical_and, np.logical_or,
                                                               np.logical_xor))


def logical_not(input):
    return _wrap_const(np.logical_not(_arr(input)))


def isnan(input):
    return _wrap_const(np.isnan(_arr(input)))


def isinf(input):
    return _wrap_const(np.isinf(_arr(input)))


def isfinite(input):
    return _wrap_const(np.isfinite(_arr(input)))


def equal(input, other) -> bool:
    return _arr(input).shape == _arr(other).shape and bool(np.array_equal(_arr(input), _arr(other)))


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(np.allclose(_arr(input), _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return _wrap_const(np.isclose(_arr(input), _arr(other), rtol=rtol, atol=atol,
                                  equal_nan=equal_nan))


# ---- reductions ------------------------------------------------------------------------------
def sum(input, dim=None, keepdim=False, *, dtype=None):
    return R.Sum.apply(input, dim=dim, keepdim=keepdim,
                       dtype=None if dtype is None else _np_dtype(dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return R.Mean.apply(input if dtype is None else input.to(dtype), dim=dim, keepdim=keepdim)


def _np_dtype(d):
    from .dtypes import to_numpy_dtype
    return to_numpy_dtype(d)


def _max_min(input, dim, keepdim, take_max, result):
    a = input._array
    if dim is None:
        return R.MaxAll.apply(input, take_max=take_max)
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return maximum(input, dim) if take_max else minimum(input, dim)
    (axis,) = normalize_dims(dim, a.ndim)
    if a.ndim == 0:
        return result(input, _wrap_const(np.zeros((), np.int64)))
    if a.shape[axis] == 0:
        raise IndexError(f"max(): cannot reduce over dimension {dim} of size 0 (shape "
                         f"{tuple(a.shape)})")
    idx = (np.argmax if take_max else np.argmin)(a, axis=axis)
    if keepdim:
        idx = np.expand_dims(idx, axis)
    values = R.MaxDim.apply(input, idx, dim=axis, keepdim=keepdim)
    return result(values, _wrap_const(idx.astype(np.int64)))


def max(input, dim=None, keepdim=False):
    """max(t) -> the largest value; max(t, dim) -> (values, indices); max(a, b) -> maximum."""
    return _max_min(input, dim, keepdim, True, return_max)


def min(input, dim=None, keepdim=False):
    return _max_min(input, dim, keepdim, False, return_min)


def amax(input, dim=None, keepdim=False):
    """Largest values over dim (int or tuple); unlike max(t, dim), ties share the gradient."""
    return R.MaxAll.apply(input, take_max=True, dim=dim, keepdim=keepdim)


def amin(input, dim=None, keepdim=False):
    return R.MaxAll.apply(input, take_max=False, dim=dim, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    a = _arr(input)
    if dim is None:
        out = np.asarray(np.argmax(a), np.int64)
        return _wrap_const(out.reshape((1,) * a.ndim) if keepdim else out)
    dim = wrap_dim(dim, a.ndim)
    if a.ndim == 0:  # a 0-d tensor's only index is 0, as in PyTorch
        return _wrap_const(np.zeros((), np.int64))
    out = np.argmax(a, axis=dim)
    return _wrap_const((np.expand_dims(out, dim) if keepdim else out).astype(np.int64))


def argmin(input, dim=None, keepdim=False):
    a = _arr(input)
    if dim is None:
        out = np.asarray(np.argmin(a), np.int64)
        return _wrap_const(out.reshape((1,) * a.ndim) if keepdim else out)
    dim = wrap_dim(dim, a.ndim)
    if a.ndim == 0:  # a 0-d tensor's only index is 0, as in PyTorch
        return _wrap_const(np.zeros((), np.int64))
    out = np.argmin(a, axis=dim)
    return _wrap_const((np.expand_dims(out, dim) if keepdim else out).astype(np.int64))


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(t, False): the old positional `unbiased`
        dim, unbiased = None, dim
    return R.Var.apply(input, dim=dim, correction=_correction(unbiased, correction),
                       keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or over one dim; integers multiply in int64, as PyTorch."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): dim must be a single int, got {dim!r}")
    if dtype is not None:
        input = input.to(dtype)
    elif input._array.dtype.kind in "biu" and input._array.dtype != np.int64:
        input = input.to(np.int64)
    return P.Prod.apply(input, axes=R.reduction_axes(dim, input._array.ndim),
                        keepdim=keepdim)


def logsumexp(input, dim, keepdim=False):
    m = amax(input, dim, keepdim=True).detach()
    out = log(sum(exp(input - m), dim, keepdim=True)) + m
    return out if keepdim else squeeze(out, dim)


# ---- shapes ----------------------------------------------------------------------------------
def _size_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if all(type(s) is int for s in shape):  # the common case, without converting
        return shape
    return tuple(int(s) for s in shape)


def reshape(input, *shape):
    return _reshape(input, _size_args(shape), "reshape")


def _reshape(input, shape, op):
    if autograd._state.enabled or not isinstance(input, Tensor):
        return S.Reshape.apply(input, shape=shape, op=op)
    return S.Reshape.infer(input, shape, op)  # no graph: no node (inference latency)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._array.shape
    if not shape:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)
        return reshape(input, 1)
    start, end = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    new = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return _reshape(input, new, "flatten")


def unflatten(input, dim, sizes):
    shape = input.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    if (sizes.count(-1) > 1 or any(s < -1 for s in sizes) or
            (known != shape[d] if -1 not in sizes else known == 0 or shape[d] % known)):
        raise ShapeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim "
                         f"{dim} ({shape[d]}) of the input, shape {tuple(shape)}")
    return S.Reshape.apply(input, shape=shape[:d] + sizes + shape[d + 1:], op="unflatten")


def squeeze(input, dim=None):
    shape = input._array.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, len(shape))
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return S.Reshape.apply(input, shape=new, op="squeeze")


def unsqueeze(input, dim):
    shape = input._array.shape
    d = wrap_dim(dim, len(shape) + 1)
    return S.Reshape.apply(input, shape=shape[:d] + (1,) + shape[d:], op="unsqueeze")


def permute(input, *dims):
    return S.Permute.apply(input, dims=_size_args(dims))


def transpose(input, dim0, dim1):
    nd = input.ndim
    if nd == 0:
        return input
    dims = list(range(nd))
    dim0, dim1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return S.Permute.apply(input, dims=tuple(dims))


swapaxes = transpose


def t(input):
    if input.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def cat(tensors, dim=0):
    tensors = [x for x in tensors if not (x.ndim == 1 and x.shape[0] == 0)] or list(tensors)
    if tensors:
        wrap_dim(dim, tensors[0].ndim)
    return S.Cat.apply(*tensors, dim=dim)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    return S.Stack.apply(*tensors, dim=wrap_dim(dim, tensors[0].ndim + 1))


def split(tensor, split_size_or_sections, dim=0):
    size = tensor.shape[wrap_dim(dim, tensor.ndim)]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or step == 0 and size > 0:
            raise ValueError(f"split: split_size must be positive (0 only for an empty "
                             f"dimension), got {step} for a dimension of size {size}")
        bounds = list(range(0, size, step)) + [size] if step else [0, 0]
    else:
        if any(int(s) < 0 for s in split_size_or_sections):
            raise ValueError(f"split: sections must be non-negative, got "
                             f"{list(split_size_or_sections)}")
        bounds = [0] + list(np.cumsum(split_size_or_sections))
        if bounds[-1] != size:
            raise ShapeError(f"split: sections {split_size_or_sections} do not add up to {size}")
    d = dim % tensor.ndim
    return tuple(tensor[(slice(None),) * d + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))


def chunk(input, chunks, dim=0):
    size = input.shape[wrap_dim(dim, input.ndim)]
    step = -(-size // chunks)
    return split(input, step, dim)


def matmul(input, other):
    return L.Matmul.apply(input, other)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    return L.Matmul.apply(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    return L.Matmul.apply(input, mat2)


def numel(input) -> int:
    return input.numel()


# axis=/keepdims= as dim=/keepdim=, as PyTorch accepts them on its native functions.
(sum, mean, max, min, amax, amin, argmax, argmin, var, std, prod, logsumexp) = map(
    numpy_names, (sum, mean, max, min, amax, amin, argmax, argmin, var, std, prod, logsumexp))
(cat, concat, concatenate, stack, squeeze, unsqueeze, chunk, softmax, log_softmax) = map(
    numpy_names, (cat, concat, concatenate, stack, squeeze, unsqueeze, chunk, softmax,
                  log_softmax))
