"""Elementwise math of one tensor beyond exp/log/sqrt: log1p, expm1, log2, log10, rsqrt,
reciprocal, erf, erfc, the trigonometric and hyperbolic functions and their inverses, frac,
logit, sinc, deg2rad, rad2deg, nan_to_num, and the rounding family whose gradient is zero
(floor, ceil, trunc, round, sign), all on NumPy."""
import math

import numpy as np

from ..autograd import Function
from .elementwise import _floating

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# NumPy has no erf; math.erf per element is exact and fast enough off the hot path.
_erf, _erfc = np.frompyfunc(math.erf, 1, 1), np.frompyfunc(math.erfc, 1, 1)


def _erf_array(a):
    return np.asarray(_erf(a), dtype=a.dtype)


def _erfc_array(a):  # math.erfc keeps its precision where erf is near 1
    return np.asarray(_erfc(a), dtype=a.dtype)


# kind -> (forward(a), derivative(a, out)); a is already floating.
_UNARY = {
    "log1p": (np.log1p, lambda a, out: 1.0 / (1.0 + a)),
    "expm1": (np.expm1, lambda a, out: out + 1.0),
    "log2": (np.log2, lambda a, out: 1.0 / (a * _LN2)),
    "log10": (np.log10, lambda a, out: 1.0 / (a * _LN10)),
    "rsqrt": (lambda a: 1.0 / np.sqrt(a), lambda a, out: -0.5 * out * out * out),
    "reciprocal": (np.reciprocal, lambda a, out: -out * out),
    "erf": (_erf_array, lambda a, out: _TWO_OVER_SQRT_PI * np.exp(-a * a)),
    "erfc": (_erfc_array, lambda a, out: -_TWO_OVER_SQRT_PI * np.exp(-a * a)),
    "tan": (np.tan, lambda a, out: 1.0 + out * out),
    "sinh": (np.sinh, lambda a, out: np.cosh(a)),
    "cosh": (np.cosh, lambda a, out: np.sinh(a)),
    "asin": (np.arcsin, lambda a, out: 1.0 / np.sqrt(1.0 - a * a)),
    "acos": (np.arccos, lambda a, out: -1.0 / np.sqrt(1.0 - a * a)),
    "atan": (np.arctan, lambda a, out: 1.0 / (1.0 + a * a)),
    "asinh": (np.arcsinh, lambda a, out: 1.0 / np.sqrt(a * a + 1.0)),
    "acosh": (np.arccosh, lambda a, out: 1.0 / np.sqrt(a * a - 1.0)),
    "atanh": (np.arctanh, lambda a, out: 1.0 / (1.0 - a * a)),
    "exp2": (np.exp2, lambda a, out: out * _LN2),
    "frac": (lambda a: a - np.trunc(a), lambda a, out: np.ones_like(a)),
    "logit": (lambda a: np.log(a / (1.0 - a)), lambda a, out: 1.0 / (a * (1.0 - a))),
    "sinc": (np.sinc, lambda a, out: np.where(a == 0, 0.0, (np.cos(np.pi * a) - out)
                                                / np.where(a == 0, 1.0, a))),
    "deg2rad": (np.deg2rad, lambda a, out: np.full_like(a, math.pi / 180.0)),
    "rad2deg": (np.rad2deg, lambda a, out: np.full_like(a, 180.0 / math.pi)),
}

UNARY_KINDS = tuple(_UNARY)


class Unary(Function):
    """One of the functions in _UNARY; integer input gives a float32 result, as in PyTorch."""

    def forward(self, a, kind):
        if kind == "frac" and a.dtype.kind != "f":  # PyTorch has no integer frac either
            raise TypeError(f"frac: expected a floating point tensor, got dtype {a.dtype} with "
                            f"shape {tuple(a.shape)}")
        a = _floating(a)
        fn, self.derivative = _UNARY[kind]
        self.kind, self.a = kind, a
        with np.errstate(divide="ignore", invalid="ignore"):
            self.out = np.asarray(fn(a), dtype=a.dtype)
        return self.out

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.asarray(g * self.derivative(self.a, self.out), dtype=g.dtype),)

    def _name(self):
        return self.kind.title() + "Backward"


def _round(a, decimals=0):
    return np.round(a, decimals)


_ROUNDING = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": _round,
             "sign": np.sign}


class Rounding(Function):
    """A piecewise-constant function: its gradient is zero everywhere, as PyTorch defines it.
    Integer input is returned unchanged in its dtype (sign keeps the dtype too)."""

    def forward(self, a, kind, **params):
        self.kind, self.shape = kind, a.shape
        if a.dtype.kind == "b" or (a.dtype.kind in "iu" and kind != "sign"):
            return a.copy()
        return np.asarray(_ROUNDING[kind](a, **params), dtype=a.dtype)

    def backward(self, g):
        return (np.zeros(self.shape, g.dtype),)

    def _name(self):
        return self.kind.title() + "Backward"


class NanToNum(Function):
    """nan, +inf and -inf replaced by numbers; the gradient passes where the input is finite."""

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.finite = np.isfinite(a)
        if a.dtype.kind != "f":
            return a.copy()
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return (np.where(self.finite, g, np.zeros((), g.dtype)),)
