"""Elementwise arithmetic and math with broadcasting, on NumPy (as fast as a kernel here)."""
import numpy as np

from ..autograd import Function
from ._broadcast import torch_dtype, unbroadcast


def _shape(x):
    return x.shape if isinstance(x, np.ndarray) else ()


def _floating(a):
    """Integer and bool inputs of float-valued math become float32, as in PyTorch."""
    return a if a.dtype.kind == "f" else a.astype(np.float32)


class Add(Function):
    def forward(self, a, b):
        self.shapes = _shape(a), _shape(b)
        return torch_dtype(np.add(a, b), a, b)

    def backward(self, g):
        sa, sb = self.shapes
        return (unbroadcast(g, sa) if self.needs_input_grad[0] else None,
                unbroadcast(g, sb) if self.needs_input_grad[1] else None)


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype == np.bool_)


class Sub(Function):
    def forward(self, a, b):
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        self.shapes = _shape(a), _shape(b)
        return torch_dtype(np.subtract(a, b), a, b)

    def backward(self, g):
        sa, sb = self.shapes
        return (unbroadcast(g, sa) if self.needs_input_grad[0] else None,
                unbroadcast(-g, sb) if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return torch_dtype(np.multiply(a, b), a, b)

    def backward(self, g):
        a, b = self.a, self.b
        return (unbroadcast(g * b, _shape(a)) if self.needs_input_grad[0] else None,
                unbroadcast(g * a, _shape(b)) if self.needs_input_grad[1] else None)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return torch_dtype(np.true_divide(a, b), a, b)

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g / b, _shape(a))
        if self.needs_input_grad[1]:
            gb = unbroadcast(-g * a / (b * b), _shape(b))
        return ga, gb


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = torch_dtype(np.power(a, b), a, b)
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g * b * np.power(a, b - 1), _shape(a))
        if self.needs_input_grad[1]:
            # d(a^b)/db = a^b log a; PyTorch defines it as 0 where a == 0 (and b >= 0).
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a == 0, 0, np.log(np.where(a == 0, 1, a)))
            gb = unbroadcast(g * self.out * log_a, _shape(b))
        return ga, gb


class Neg(Function):
    def forward(self, a):
        if _is_bool(a):
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return np.negative(a)

    def backward(self, g):
        return (-g,)


class Exp(Function):
    def forward(self, a):
        a = _floating(a)
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    def forward(self, a):
        a = _floating(a)
        self.a = a
        return np.log(a)

    def backward(self, g):
        return (g / self.a,)


class Sqrt(Function):
    def forward(self, a):
        a = _floating(a)
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return (g * np.sign(self.a),)


class Sin(Function):
    def forward(self, a):
        a = _floating(a)
        self.a = a
        return np.sin(a)

    def backward(self, g):
        return (g * np.cos(self.a),)


class Cos(Function):
    def forward(self, a):
        a = _floating(a)
        self.a = a
        return np.cos(a)

    def backward(self, g):
        return (-g * np.sin(self.a),)


class Clamp(Function):
    """clamp(a, min, max); the gradient flows where min <= a <= max, as in PyTorch."""

    def forward(self, a, min=None, max=None):
        self.a, self.lo, self.hi = a, min, max
        return np.clip(a, min, max).astype(a.dtype, copy=False)

    def backward(self, g):
        keep = np.ones(self.a.shape, dtype=bool)
        if self.lo is not None:
            keep &= self.a >= self.lo
        if self.hi is not None:
            keep &= self.a <= self.hi
        return (np.where(keep, g, 0).astype(g.dtype, copy=False),)


class Maximum(Function):
    """Elementwise maximum (or minimum); ties split the gradient evenly, as in PyTorch."""

    def forward(self, a, b, take_max=True):
        self.a, self.b = a, b
        wins = (a > b) if take_max else (a < b)
        self.share_a = np.where(a == b, 0.5, wins.astype(np.float64))
        return torch_dtype((np.maximum if take_max else np.minimum)(a, b), a, b)

    def backward(self, g):
        share_a = self.share_a.astype(g.dtype, copy=False)
        return (unbroadcast(g * share_a, _shape(self.a)) if self.needs_input_grad[0] else None,
                unbroadcast(g * (1 - share_a), _shape(self.b)) if self.needs_input_grad[1] else None)


class Where(Function):
    def forward(self, cond, a, b):
        self.cond, self.sa, self.sb = cond, _shape(a), _shape(b)
        return torch_dtype(np.where(cond, a, b), a, b)

    def backward(self, g):
        zero = np.zeros((), g.dtype)
        return (None,
                unbroadcast(np.where(self.cond, g, zero), self.sa) if self.needs_input_grad[1] else None,
                unbroadcast(np.where(self.cond, zero, g), self.sb) if self.needs_input_grad[2] else None)


class Cast(Function):
    def forward(self, a, dtype):
        self.src = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (g.astype(self.src) if self.src.kind == "f" else None,)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return (g,)
