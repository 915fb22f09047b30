"""Tensor creation: from data, filled, ranges, random."""
from __future__ import annotations

import functools
import inspect
import math

import numpy as np

from ._bounds import check_alloc
from ._device import check_cpu
from .dtypes import to_numpy_dtype
from .random import _resolve
from .tensor import Tensor, _as_array

_F32 = np.dtype(np.float32)


def _finish(arr, requires_grad=False):
    t = Tensor._from_op(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(size, op="tensor", dtype=_F32):
    """size (ints, or one sequence of ints) as a shape, checked to fit in memory as `dtype`."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in size):
        raise TypeError(f"size must be a sequence of ints, got {tuple(size)!r}")
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in size {shape}")
    check_alloc(op, shape, np.dtype(dtype).itemsize)
    return shape


def _dt(dtype, default=_F32):
    return default if dtype is None else to_numpy_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (floats become float32 unless dtype says otherwise)."""
    arr = _as_array(data, dtype)
    return _finish(np.array(arr, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None:
        return data
    return _finish(_as_array(data, dtype))


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(ndarray).__name__}")
    to_numpy_dtype(ndarray.dtype)  # rejects unsupported dtypes
    return _finish(ndarray)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_shape(size, "zeros", _dt(dtype)), _dt(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(size, "ones", _dt(dtype)), _dt(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(size, "empty", _dt(dtype)), _dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else np.float32)
    return _finish(np.full(_shape((size,), "full", to_numpy_dtype(dtype)), fill_value,
                           to_numpy_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    _shape((n, n if m is None else m), "eye", _dt(dtype))
    return _finish(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else np.float32
    span = (float(end) - float(start)) / float(step)  # (float(): numbers and 0-d tensors alike)
    if not math.isfinite(span):
        raise ValueError(f"arange: unsupported range: {start} -> {end} with step {step}")
    check_alloc("arange", (max(math.ceil(span), 0),), 8)
    return _finish(np.arange(start, end, step).astype(to_numpy_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    _shape((steps,), "linspace", np.float64)
    return _finish(np.linspace(start, end, steps).astype(_dt(dtype)), requires_grad)


def _float_dt(op, dtype):
    dt = _dt(dtype)
    if dt.kind != "f":
        raise NotImplementedError(f"{op}: random values of dtype {dt} are not implemented "
                                  "(use a floating point dtype, or randint)")
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _float_dt("rand", dtype)
    return _finish(_resolve(generator).random(_shape(size, "rand", dt), dtype=dt)
                   .astype(dt, copy=False), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _float_dt("randn", dtype)
    return _finish(_resolve(generator).standard_normal(_shape(size, "randn", dt), dtype=dt),
                   requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    arr = _resolve(generator).integers(low, high, _shape((size,), "randint", np.int64))
    return _finish(arr.astype(_dt(dtype, np.dtype(np.int64))), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None):
    _shape((n,), "randperm", np.int64)
    return _finish(_resolve(generator).permutation(n).astype(_dt(dtype, np.dtype(np.int64))))


def normal(mean, std=None, size=None, *, generator=None, device=None):
    # PyTorch's overloads: (Tensor, float=1.0), (float, Tensor), (Tensor, Tensor), and
    # (float, float, size); two numbers without a size have no overload there.
    tensors = isinstance(mean, Tensor) or isinstance(std, Tensor)
    if not tensors and (std is None or size is None):
        raise TypeError("normal(): with a number mean, give a tensor std or a number std and a "
                        f"size; got mean={mean!r}, std={std!r}, size={size!r}")
    if tensors and size is not None:
        raise TypeError("normal(): size is only taken with a number mean and std; the shape "
                        "comes from the mean and std tensors")
    if std is None:
        std = 1.0
    m = mean._array if isinstance(mean, Tensor) else mean
    s = std._array if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal expects all elements of std >= 0.0, got std={std}")
    shape = size if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = np.result_type(np.asarray(m).dtype if np.ndim(m) else _F32, _F32)
    return _finish(_resolve(generator).normal(m, s, shape).astype(dt))


def bernoulli(input, p=None, *, generator=None):
    probs = input._array if p is None else np.full(input.shape, p)
    return _finish((_resolve(generator).random(input.shape) < probs).astype(input._array.dtype))


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, **kwargs):
        dt = input._array.dtype if dtype is None else dtype
        return fn(*input.shape, dtype=dt, requires_grad=requires_grad, **kwargs)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like, rand_like, randn_like = map(_like, (zeros, ones, empty, rand,
                                                                       randn))


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype or input._array.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None, device=None):
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input._array.dtype)


def _on_cpu_only(fn):
    """Makes `fn` check its `device` argument: the CPU (any spelling) or an error naming it."""
    params = list(inspect.signature(fn).parameters.values())
    position = next(i for i, p in enumerate(params) if p.name == "device")
    if params[position].kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
        position = None  # after *size: keyword only

    @functools.wraps(fn)
    def create(*args, **kwargs):
        where = kwargs.get("device")
        if position is not None and len(args) > position:
            where = args[position]
        if where is not None:
            check_cpu(fn.__name__, where)
        return fn(*args, **kwargs)
    return create


for _fn in (tensor, as_tensor, zeros, ones, empty, full, eye, arange, linspace, rand, randn,
            randint, randperm, zeros_like, ones_like, empty_like, rand_like, randn_like,
            full_like, randint_like, normal):
    globals()[_fn.__name__] = _on_cpu_only(_fn)
del _fn
