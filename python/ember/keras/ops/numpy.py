"""keras.ops.numpy: NumPy-style ops (Keras' names, arguments and axis semantics) on ember
tensors, differentiable through ember's autograd. Integer results of index ops are int32, as in
Keras; float-only math turns integer inputs into float32."""
from __future__ import annotations

import builtins
import numbers

import numpy as np

import ember
from ...nn import functional as F
from .core import (as_float, axes_argument, cast, convert_to_tensor, ember_dtype, float_unary,
                   normalize_axis, standardize_dtype)

_t = convert_to_tensor


def _pair(x1, x2):
    """Two operands as tensors; a Python scalar stays a scalar (Keras' weak typing)."""
    a = x1 if isinstance(x1, (numbers.Number, ember.Tensor)) else _t(x1)
    b = x2 if isinstance(x2, (numbers.Number, ember.Tensor)) else _t(x2)
    if not isinstance(a, ember.Tensor) and not isinstance(b, ember.Tensor):
        a = _t(a)
    return a, b


def _int32(x):
    return cast(x, "int32")


# ---- elementwise arithmetic ---------------------------------------------------------------
def add(x1, x2):
    a, b = _pair(x1, x2)
    return a + b


def subtract(x1, x2):
    a, b = _pair(x1, x2)
    return a - b


def multiply(x1, x2):
    a, b = _pair(x1, x2)
    return a * b


def divide(x1, x2):
    a, b = _pair(x1, x2)
    out = a / b
    return as_float(out)


true_divide = divide


def divide_no_nan(x1, x2):
    a, b = _pair(as_float(x1), x2)
    b = _t(b) if not isinstance(b, ember.Tensor) else b
    safe = ember.where(b == 0, ember.ones_like(b), b)
    return ember.where(b == 0, ember.zeros_like(a / safe), a / safe)


def floor_divide(x1, x2):
    a, b = _pair(x1, x2)
    return a // b


def mod(x1, x2):
    a, b = _pair(x1, x2)
    return a % b


def power(x1, x2):
    a, b = _pair(x1, x2)
    return a ** b


def negative(x):
    return -_t(x)


def abs(x):  # noqa: A001  (Keras' name)
    return ember.abs(_t(x))


absolute = abs


def square(x):
    x = _t(x)
    return x * x


def logaddexp(x1, x2):
    a, b = _pair(as_float(x1), x2)
    return ember.logaddexp(a, b if isinstance(b, ember.Tensor) else _t(float(b)))


def reciprocal(x):
    return 1.0 / as_float(x)


def sign(x):
    return ember.sign(_t(x))


def round(x, decimals=0):  # noqa: A001  (Keras' name)
    x = _t(x)
    if decimals == 0:
        return ember.round(x)
    scale = 10.0 ** decimals
    return ember.round(x * scale) / scale


def clip(x, x_min, x_max):
    return ember.clamp(_t(x), x_min, x_max)


def maximum(x1, x2):
    a, b = _pair(x1, x2)
    return ember.maximum(_t(a), _t(b) if not isinstance(b, ember.Tensor) else b)


def minimum(x1, x2):
    a, b = _pair(x1, x2)
    return ember.minimum(_t(a), _t(b) if not isinstance(b, ember.Tensor) else b)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return ember.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


# Float-only math: integer and bool inputs become float32 first, as in Keras.
(sqrt, exp, expm1, log, log1p, log2, log10, floor, ceil, sin, cos, tan, arcsin, arccos, arctan,
 sinh, cosh, tanh, arcsinh, arccosh, arctanh) = (float_unary(f) for f in (
    ember.sqrt, ember.exp, ember.expm1, ember.log, ember.log1p, ember.log2, ember.log10,
    ember.floor, ember.ceil, ember.sin, ember.cos, ember.tan, ember.asin, ember.acos, ember.atan,
    ember.sinh, ember.cosh, ember.tanh, ember.asinh, ember.acosh, ember.atanh))


deg2rad, rad2deg = float_unary(ember.deg2rad), float_unary(ember.rad2deg)
exp2 = float_unary(ember.exp2)


def cbrt(x):
    x = as_float(x)
    return ember.sign(x) * ember.abs(x) ** (1.0 / 3.0)


def hypot(x1, x2):
    return ember.hypot(as_float(x1), as_float(x2))


def logaddexp2(x1, x2):
    return ember.logaddexp2(as_float(x1), as_float(x2))


def fmod(x1, x2):
    a, b = _pair(x1, x2)
    return ember.fmod(_t(a), b)


def signbit(x):
    return ember.signbit(_t(x))


def arctan2(x1, x2):
    return ember.atan2(as_float(x1), as_float(x2))


# ---- comparisons and logic ------------------------------------------------------------------
def _compare(fn):
    def op(x1, x2):
        a, b = _pair(x1, x2)
        return fn(_t(a) if not isinstance(a, ember.Tensor) else a, b)
    return op


equal = _compare(lambda a, b: a == b)
not_equal = _compare(lambda a, b: a != b)
greater = _compare(lambda a, b: a > b)
greater_equal = _compare(lambda a, b: a >= b)
less = _compare(lambda a, b: a < b)
less_equal = _compare(lambda a, b: a <= b)


def logical_and(x1, x2):
    return ember.logical_and(cast(x1, "bool"), cast(x2, "bool"))


def logical_or(x1, x2):
    return ember.logical_or(cast(x1, "bool"), cast(x2, "bool"))


def logical_xor(x1, x2):
    return ember.logical_xor(cast(x1, "bool"), cast(x2, "bool"))


def logical_not(x):
    return ember.logical_not(cast(x, "bool"))


def isnan(x):
    return ember.isnan(_t(x))


def isinf(x):
    return ember.isinf(_t(x))


def isfinite(x):
    return ember.isfinite(_t(x))


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    return ember.isclose(as_float(x1), as_float(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition, x1=None, x2=None):
    condition = cast(condition, "bool")
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("keras.ops.where: x1 and x2 must both be given, or neither. "
                         f"Received: x1={x1!r}, x2={x2!r}")
    a, b = _t(x1) if not isinstance(x1, ember.Tensor) else x1, x2
    b = _t(b) if not isinstance(b, ember.Tensor) else b
    if a.dtype != b.dtype:  # one dtype for both branches: a float one wins over ints
        floats = [t.dtype for t in (a, b) if t.dtype.is_floating_point]
        common = (floats[0] if len(floats) == 1 else
                  ember_dtype(np.result_type(a.dtype.numpy, b.dtype.numpy).name))
        a, b = a.to(common), b.to(common)
    return ember.where(condition, a, b)


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, elementwise (``default`` where none does)."""
    if len(condlist) != len(choicelist) or not condlist:
        raise ValueError("keras.ops.select: condlist and choicelist must be non-empty and of "
                         f"equal length. Received lengths {len(condlist)} and "
                         f"{len(choicelist)}")
    out = _t(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = where(condition, choice, out)
    return out


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def trunc(x):
    return ember.trunc(_t(x))


def nonzero(x):
    """A tuple of int32 index tensors, one per axis, as NumPy's."""
    return tuple(_int32(ember.from_numpy(i.copy())) for i in np.nonzero(
        _t(x).detach().numpy()))


# ---- reductions --------------------------------------------------------------------------------
def _reduce(fn, x, axis, keepdims, owner):
    x = _t(x)
    dims = axes_argument(axis, x.dim(), owner)
    if dims == ():
        return x
    if dims is None:
        return fn(x) if not keepdims else fn(x).reshape((1,) * x.dim())
    return fn(x, dim=dims, keepdim=keepdims)


def sum(x, axis=None, keepdims=False):  # noqa: A001  (Keras' name)
    x = _t(x)
    name = standardize_dtype(x.dtype)
    # Keras keeps the dtype, except that bool and small ints add up in int32.
    result = "int32" if name in ("bool", "int8", "int16", "uint8") else name
    return cast(_reduce(ember.sum, x, axis, keepdims, "sum"), result)


def mean(x, axis=None, keepdims=False):
    return _reduce(ember.mean, as_float(x), axis, keepdims, "mean")


def _extreme(fn, bound, x, axis, keepdims, initial, owner):
    x = _t(x)
    if x.numel() == 0 and initial is None:
        raise ValueError(f"keras.ops.{owner}: cannot reduce an empty tensor (shape "
                         f"{tuple(x.shape)}) without `initial`")
    out = _reduce(fn, x, axis, keepdims, owner)
    return out if initial is None else ember.clamp(out, **{bound: initial})


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001  (Keras' name)
    return _extreme(ember.amax, "min", x, axis, keepdims, initial, "max")


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001  (Keras' name)
    return _extreme(ember.amin, "max", x, axis, keepdims, initial, "min")


def amax(x, axis=None, keepdims=False):
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    return min(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    x = _t(x) if dtype is None else cast(x, dtype)
    dims = axes_argument(axis, x.dim(), "prod")
    if dims is None:
        out = ember.prod(x.reshape(-1), 0)
        return out.reshape((1,) * x.dim()) if keepdims else out
    for d in sorted(dims, reverse=True):  # (from the last axis: the others keep their index)
        x = ember.prod(x, d, keepdim=keepdims)
    return x


def std(x, axis=None, keepdims=False):
    return _reduce(lambda t, **kw: ember.std(t, correction=0, **kw), as_float(x), axis,
                   keepdims, "std")


def var(x, axis=None, keepdims=False):
    return _reduce(lambda t, **kw: ember.var(t, correction=0, **kw), as_float(x), axis,
                   keepdims, "var")


def all(x, axis=None, keepdims=False):  # noqa: A001  (Keras' name)
    return _reduce(ember.all, cast(x, "bool"), axis, keepdims, "all")


def any(x, axis=None, keepdims=False):  # noqa: A001  (Keras' name)
    return _reduce(ember.any, cast(x, "bool"), axis, keepdims, "any")


def count_nonzero(x, axis=None):
    return _int32(sum(not_equal(x, 0), axis=axis))


def average(x, axis=None, weights=None):
    x = as_float(x)
    if weights is None:
        return mean(x, axis=axis)
    weights = as_float(weights)
    if axis is not None and weights.dim() == 1 and x.dim() > 1:
        axis = normalize_axis(axis, x.dim(), "average")
        shape = [1] * x.dim()
        shape[axis] = weights.shape[0]
        weights = weights.reshape(shape)
    return sum(x * weights, axis=axis) / sum(weights * ember.ones_like(x), axis=axis)


def _arg_reduce(fn, x, axis, keepdims, owner):
    x = _t(x)
    if axis is None:
        out = fn(x.reshape(-1))
        return _int32(out.reshape((1,) * x.dim()) if keepdims else out)
    return _int32(fn(x, dim=normalize_axis(axis, x.dim(), owner), keepdim=keepdims))


def argmax(x, axis=None, keepdims=False):
    return _arg_reduce(ember.argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims=False):
    return _arg_reduce(ember.argmin, x, axis, keepdims, "argmin")


def argsort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return _int32(ember.argsort(x, dim=normalize_axis(axis, x.dim(), "argsort"), stable=True))


def sort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return ember.sort(x, dim=normalize_axis(axis, x.dim(), "sort"), stable=True)[0]


def cumsum(x, axis=None, dtype=None):
    x = _t(x) if dtype is None else cast(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return ember.cumsum(x, normalize_axis(axis, x.dim(), "cumsum"))


def cumprod(x, axis=None, dtype=None):
    x = _t(x) if dtype is None else cast(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return ember.cumprod(x, normalize_axis(axis, x.dim(), "cumprod"))


def trace(x, offset=0, axis1=0, axis2=1):
    x = _t(x)
    return sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


# ---- products -----------------------------------------------------------------------------------
def matmul(x1, x2):
    a, b = _t(x1), _t(x2)
    if a.dim() == 0 or b.dim() == 0:
        raise ValueError("keras.ops.matmul: the operands must have at least one dimension. "
                         f"Received shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return ember.matmul(a, b)


def dot(x1, x2):
    a, b = _t(x1), _t(x2)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    if b.dim() == 1:
        return ember.tensordot(a, b, dims=([a.dim() - 1], [0]))
    return ember.tensordot(a, b, dims=([a.dim() - 1], [b.dim() - 2]))


def tensordot(x1, x2, axes=2):
    a, b = _t(x1), _t(x2)
    if isinstance(axes, (list, tuple)):
        axes = tuple(list(ax) if isinstance(ax, (list, tuple)) else [ax] for ax in axes)
    return ember.tensordot(a, b, dims=axes)


def einsum(subscripts, *operands, **kwargs):
    if kwargs:
        raise TypeError(f"keras.ops.einsum: unexpected keyword arguments {sorted(kwargs)}")
    return ember.einsum(subscripts, *[_t(o) for o in operands])


def outer(x1, x2):
    return ember.outer(_t(x1).reshape(-1), _t(x2).reshape(-1))


def inner(x1, x2):
    a, b = _t(x1), _t(x2)
    if a.dim() == 0 or b.dim() == 0:
        return a * b
    return ember.tensordot(a, b, dims=([a.dim() - 1], [b.dim() - 1]))


def vdot(x1, x2):
    return ember.sum(_t(x1).reshape(-1) * _t(x2).reshape(-1))


# ---- shapes --------------------------------------------------------------------------------------
def reshape(x, newshape):
    x = _t(x)
    newshape = (newshape,) if isinstance(newshape, numbers.Integral) else tuple(newshape)
    return x.reshape(tuple(-1 if d is None else int(d) for d in newshape))


def ravel(x):
    return _t(x).reshape(-1)


def expand_dims(x, axis):
    x = _t(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    rank = x.dim() + len(axes)
    for a in sorted(normalize_axis(a, rank, "expand_dims") for a in axes):
        x = x.unsqueeze(a)
    return x


def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return x.reshape(tuple(d for d in x.shape if d != 1))
    axes = axes_argument(axis, x.dim(), "squeeze")
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"keras.ops.squeeze: cannot squeeze axis {a} of size "
                             f"{x.shape[a]} (shape {tuple(x.shape)})")
    return x.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))


def transpose(x, axes=None):
    x = _t(x)
    if axes is None:
        axes = tuple(range(x.dim() - 1, -1, -1))
    axes = tuple(normalize_axis(a, x.dim(), "transpose") for a in axes)
    if sorted(axes) != list(range(x.dim())):
        raise ValueError(f"keras.ops.transpose: axes {axes} are not a permutation of the "
                         f"{x.dim()} axes of a tensor of shape {tuple(x.shape)}")
    return x.permute(*axes)


def swapaxes(x, axis1, axis2):
    x = _t(x)
    axes = list(range(x.dim()))
    a, b = normalize_axis(axis1, x.dim(), "swapaxes"), normalize_axis(axis2, x.dim(), "swapaxes")
    axes[a], axes[b] = axes[b], axes[a]
    return x.permute(*axes)


def moveaxis(x, source, destination):
    x = _t(x)
    sources = [normalize_axis(a, x.dim(), "moveaxis")
               for a in (source if isinstance(source, (list, tuple)) else [source])]
    dests = [normalize_axis(a, x.dim(), "moveaxis")
             for a in (destination if isinstance(destination, (list, tuple)) else [destination])]
    order = [a for a in range(x.dim()) if a not in sources]
    for d, s in sorted(zip(dests, sources)):
        order.insert(d, s)
    return x.permute(*order)


def broadcast_to(x, shape):
    return ember.broadcast_to(_t(x), tuple(shape))


def flip(x, axis=None):
    x = _t(x)
    dims = axes_argument(axis, x.dim(), "flip")
    return ember.flip(x, *(range(x.dim()) if dims is None else dims))


def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return ember.roll(x.reshape(-1), shift).reshape(tuple(x.shape))
    return ember.roll(x, shift, axis)


def fliplr(x):
    return flip(x, axis=1)


def flipud(x):
    return flip(x, axis=0)


def diff(a, n=1, axis=-1):
    """The n-th discrete difference along ``axis``."""
    a = _t(a)
    axis = normalize_axis(axis, a.dim(), "diff")
    for _ in range(int(n)):
        length = a.shape[axis]
        a = ember.narrow(a, axis, 1, length - 1) - ember.narrow(a, axis, 0, length - 1)
    return a


def get_item(x, key):
    return _t(x)[key]


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def tril(x, k=0):
    return ember.tril(_t(x), k)


def triu(x, k=0):
    return ember.triu(_t(x), k)


def diag(x, k=0):
    return ember.diag(_t(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    x = _t(x)
    a, b = normalize_axis(axis1, x.dim(), "diagonal"), normalize_axis(axis2, x.dim(), "diagonal")
    moved = moveaxis(x, [a, b], [-2, -1])
    n, m = moved.shape[-2], moved.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    if rows.size == 0:
        return ember.zeros(*tuple(moved.shape[:-2]), 0, dtype=x.dtype)
    return moved[..., ember.from_numpy(rows), ember.from_numpy(rows + offset)]


# ---- joining and splitting -----------------------------------------------------------------------
def concatenate(xs, axis=0):
    xs = [_t(x) for x in xs]
    if axis is None:
        return ember.cat([x.reshape(-1) for x in xs])
    return ember.cat(xs, dim=normalize_axis(axis, xs[0].dim(), "concatenate"))


def stack(x, axis=0):
    xs = [_t(t) for t in x]
    return ember.stack(xs, dim=normalize_axis(axis, xs[0].dim() + 1, "stack"))


def hstack(xs):
    xs = [_t(x) for x in xs]
    return ember.cat(xs, dim=0 if xs[0].dim() == 1 else 1)


def vstack(xs):
    return ember.cat([_t(x).reshape(1, -1) if _t(x).dim() == 1 else _t(x) for x in xs])


def split(x, indices_or_sections, axis=0):
    x = _t(x)
    axis = normalize_axis(axis, x.dim(), "split")
    length = x.shape[axis]
    if isinstance(indices_or_sections, numbers.Integral):
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ValueError(f"keras.ops.split: axis {axis} of size {length} cannot be split "
                             f"into {indices_or_sections} equal sections")
        sizes = [length // indices_or_sections] * int(indices_or_sections)
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), length)
                        for i in indices_or_sections] + [length]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return list(ember.split(x, sizes, dim=axis))


def tile(x, repeats):
    repeats = (repeats,) if isinstance(repeats, numbers.Integral) else tuple(repeats)
    return ember.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if not isinstance(repeats, numbers.Integral):
        repeats = _t(repeats).to(ember.int64)
    return ember.repeat_interleave(x, repeats, dim=normalize_axis(axis, x.dim(), "repeat"))


def pad(x, pad_width, mode="constant", constant_values=None):
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.dim(), 2))
    if (widths < 0).any():
        raise ValueError(f"keras.ops.pad: pad_width must be non-negative. Received: "
                         f"pad_width={pad_width!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError("keras.ops.pad: constant_values can only be given with mode "
                         f"'constant'. Received: mode={mode!r}")
    flat = [int(v) for pair in widths[::-1] for v in pair]
    if mode == "constant":
        return F.pad(x, flat, mode="constant", value=constant_values or 0)
    modes = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}
    if mode not in modes:
        raise NotImplementedError(f"keras.ops.pad: mode={mode!r} is not supported by ember "
                                  "(constant, reflect, edge and wrap are)")
    return F.pad(x, flat, mode=modes[mode])


# ---- indexing ------------------------------------------------------------------------------------
def _along(x, indices, axis, owner):
    """(x, axis, int64 indices): x flattened when axis is None, negative indices counted from
    the end (as Keras does)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis(axis, x.dim(), owner)
    idx = cast(indices, "int64")
    return x, axis, ember.where(idx < 0, idx + x.shape[axis], idx)


def take(x, indices, axis=None):
    x, axis, idx = _along(x, indices, axis, "take")
    flat = ember.index_select(x, axis, idx.reshape(-1))
    return flat.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))


def take_along_axis(x, indices, axis=None):
    x, axis, idx = _along(x, indices, axis, "take_along_axis")
    if idx.dim() != x.dim():
        raise ValueError(f"keras.ops.take_along_axis: indices of rank {idx.dim()} do not "
                         f"match x of rank {x.dim()} (shape {tuple(x.shape)})")
    x_shape, i_shape = list(x.shape), list(idx.shape)
    x_shape[axis] = i_shape[axis] = 1
    common = np.broadcast_shapes(tuple(x_shape), tuple(i_shape))
    x_target = list(common)
    x_target[axis] = x.shape[axis]
    i_target = list(common)
    i_target[axis] = idx.shape[axis]
    return ember.gather(ember.broadcast_to(x, tuple(x_target)), axis,
                        ember.broadcast_to(idx, tuple(i_target)).contiguous())


# ---- creation ------------------------------------------------------------------------------------
def _creation_dtype(dtype):
    return ember_dtype("float32" if dtype is None else dtype)


def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


def zeros(shape, dtype=None):
    return ember.zeros(_shape_tuple(shape), dtype=_creation_dtype(dtype))


def ones(shape, dtype=None):
    return ember.ones(_shape_tuple(shape), dtype=_creation_dtype(dtype))


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    # (Keras: float32 unless dtype says otherwise; a tensor value keeps its gradient)
    value = convert_to_tensor(fill_value, dtype="float32" if dtype is None else dtype)
    return ember.broadcast_to(value, _shape_tuple(shape)).contiguous()


def zeros_like(x, dtype=None):
    x = _t(x)
    return ember.zeros(tuple(x.shape), dtype=x.dtype if dtype is None else ember_dtype(dtype))


def ones_like(x, dtype=None):
    x = _t(x)
    return ember.ones(tuple(x.shape), dtype=x.dtype if dtype is None else ember_dtype(dtype))


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    return full(tuple(x.shape), fill_value, dtype=x.dtype if dtype is None else dtype)


def arange(start, stop=None, step=None, dtype=None):
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        dtype = "float32" if builtins.any(isinstance(v, float) for v in given) else "int32"
    if stop is None:
        start, stop = 0, start
    return ember.arange(start, stop, 1 if step is None else step, dtype=ember_dtype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if axis != 0:
        raise NotImplementedError("keras.ops.linspace: axis != 0 is not supported by ember")
    values = np.linspace(float(start), float(stop), int(num), endpoint=endpoint,
                         retstep=retstep)
    samples, step = (values if retstep else (values, None))
    out = ember.from_numpy(np.asarray(samples, dtype=_creation_dtype(dtype).numpy))
    return (out, step) if retstep else out


def eye(N, M=None, k=0, dtype=None):
    array = np.eye(int(N), None if M is None else int(M), int(k))
    return ember.from_numpy(array.astype(_creation_dtype(dtype).numpy))


def tri(N, M=None, k=0, dtype=None):
    array = np.tri(int(N), None if M is None else int(M), int(k))
    return ember.from_numpy(array.astype(_creation_dtype(dtype).numpy))


def empty_like(x, dtype=None):
    return zeros_like(x, dtype)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def meshgrid(*x, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"keras.ops.meshgrid: indexing must be 'xy' or 'ij'. Received: "
                         f"indexing={indexing!r}")
    return list(ember.meshgrid(*[_t(v) for v in x], indexing=indexing))


__all__ = ["abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "append", "arange",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin",
    "argsort", "average", "broadcast_to", "cbrt", "ceil", "clip", "concatenate", "cos", "cosh",
    "count_nonzero", "cumprod", "cumsum", "deg2rad", "diag", "diagonal", "diff", "divide",
    "divide_no_nan", "dot", "einsum", "empty", "empty_like", "equal", "exp", "exp2",
    "expand_dims", "expm1", "eye", "flip", "fliplr", "flipud", "floor", "floor_divide", "fmod",
    "full", "full_like", "get_item", "greater", "greater_equal", "hstack", "hypot", "identity",
    "inner", "isclose", "isfinite", "isinf", "isnan", "less", "less_equal", "linspace", "log",
    "log10", "log1p", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not",
    "logical_or", "logical_xor", "matmul", "max", "maximum", "mean", "meshgrid", "min", "minimum",
    "mod", "moveaxis", "multiply", "nan_to_num", "negative", "nonzero", "not_equal", "ones",
    "ones_like", "outer", "pad", "power", "prod", "rad2deg", "ravel", "reciprocal", "repeat",
    "reshape", "roll", "round", "select", "sign", "signbit", "sin", "sinh", "sort", "split",
    "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "take",
    "take_along_axis", "tan", "tanh", "tensordot", "tile", "trace", "transpose", "tri", "tril",
    "triu", "true_divide", "trunc", "var", "vdot", "vstack", "where", "zeros", "zeros_like"]
