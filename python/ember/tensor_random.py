"""The in-place random fills of the PyTorch tensor API: uniform_, normal_, bernoulli_, random_,
exponential_, geometric_, log_normal_, cauchy_. Each draws from ember's generator (the default
one, or `generator=`), so ember.manual_seed makes them reproducible."""
import math
import numbers

import numpy as np

from . import autograd
from .random import _resolve
from .tensor import _check_not_leaf_requiring_grad


def _store(self, values, name):
    """Writes new random values into self. A tensor inside a graph gets new storage (arrays
    saved for backward stay intact) and leaves the graph: the fill has no gradient."""
    values = np.asarray(values).astype(self._array.dtype, copy=False)
    if autograd.is_grad_enabled() and self.requires_grad:
        _check_not_leaf_requiring_grad(self, name)
        self._array, self.grad_fn, self.requires_grad = values, None, False
    else:
        self._array[...] = values
    return self


def _check_number(op, name, value):
    """A location argument is a real number (a string reached NumPy's ufuncs and leaked)."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")


def _require_float(self, name):
    if self._array.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for dtype {self.dtype} (it fills "
                                  "floating point tensors)")


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kwargs):
    """uniform_(from=0, to=1): values uniform on [from, to)."""
    lo, hi = kwargs.pop("from", a), kwargs.pop("to", b)
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    _require_float(self, "uniform_")
    if not (math.isfinite(lo) and math.isfinite(hi)):  # (NumPy: an OverflowError, or NaNs)
        raise RuntimeError(f"uniform_ expects finite from and to, but found from={lo}, to={hi}")
    if lo > hi:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={lo} > to={hi}")
    return _store(self, _resolve(generator).uniform(lo, hi, self._array.shape), "uniform_")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _require_float(self, "normal_")
    _check_number("normal_", "mean", mean)
    if not std >= 0:  # (NaN too, as PyTorch)
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    return _store(self, _resolve(generator).normal(mean, std, self._array.shape), "normal_")


def bernoulli_(self, p=0.5, *, generator=None):
    """Each element becomes 1 with probability p (a number, or a tensor broadcast to self)."""
    probs = np.asarray(getattr(p, "_array", p), dtype=np.float64)
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    try:
        probs = np.broadcast_to(probs, self._array.shape)
    except ValueError:
        raise RuntimeError(f"bernoulli_: p of shape {tuple(probs.shape)} cannot be broadcast to "
                           f"the tensor's shape {tuple(self._array.shape)}") from None
    draws = _resolve(generator).random(self._array.shape) < probs
    return _store(self, draws, "bernoulli_")


def _top_of(dtype):
    """random_()'s exclusive upper bound by default: every integer up to it is representable."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1) + 1  # [0, 2^digits] inclusive, as in PyTorch
    if dtype.kind == "b":
        return 2
    return int(np.iinfo(dtype).max) + 1


def random_(self, *args, generator=None, **kwargs):
    """random_() -> [0, 2^mantissa] (floats) or [0, dtype max]; random_(to) -> [0, to);
    random_(from, to) -> [from, to), with to=None meaning the dtype's bound."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    if len(args) == 1 and "to" not in kwargs:
        lo, hi = kwargs.pop("from", 0), args[0]
    else:
        lo = args[0] if args else kwargs.pop("from", 0)
        hi = args[1] if len(args) > 1 else kwargs.pop("to", None)
    if kwargs:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
    if hi is None:
        hi = _top_of(self._array.dtype)
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    draws = _resolve(generator).integers(int(lo), int(hi), self._array.shape, dtype=np.int64)
    return _store(self, draws, "random_")


def exponential_(self, lambd=1.0, *, generator=None):
    _require_float(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    rng = _resolve(generator)
    return _store(self, rng.exponential(1.0 / lambd, self._array.shape), "exponential_")


def geometric_(self, p, *, generator=None):
    """Number of Bernoulli(p) trials up to and including the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _store(self, _resolve(generator).geometric(p, self._array.shape), "geometric_")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _require_float(self, "log_normal_")
    _check_number("log_normal_", "mean", mean)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    rng = _resolve(generator)
    return _store(self, rng.lognormal(mean, std, self._array.shape), "log_normal_")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    _require_float(self, "cauchy_")
    _check_number("cauchy_", "median", median)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    draws = median + sigma * _resolve(generator).standard_cauchy(self._array.shape)
    return _store(self, draws, "cauchy_")


METHODS = {f.__name__: f for f in (uniform_, normal_, bernoulli_, random_, exponential_,
                                   geometric_, log_normal_, cauchy_)}
