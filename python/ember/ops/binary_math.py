"""Differentiable functions of two tensors: remainder and fmod (the two remainders of a
division), atan2, hypot, logaddexp, logaddexp2, copysign and xlogy."""
import numpy as np

from ..autograd import Function
from ._broadcast import torch_dtype, unbroadcast
from .elementwise import _shape

# kind -> (remainder, the rounded quotient q with a = q * b + remainder)
_REMAINDERS = {
    "remainder": (np.mod, lambda a, b: np.floor(np.true_divide(a, b))),  # sign of the divisor
    "fmod": (np.fmod, lambda a, b: np.trunc(np.true_divide(a, b))),      # sign of the dividend
}


def check_integer_divisor(op, a, b):
    """Integer division by zero has no value to give: PyTorch raises, and so does ember.
    Nor does PyTorch divide two bools."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "b" and b.dtype.kind == "b":
        raise TypeError(f"{op}: not implemented for two bool tensors")
    if a.dtype.kind in "biu" and b.dtype.kind in "biu" and not b.all():
        raise RuntimeError(f"ZeroDivisionError: {op} of integer tensors by zero (shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)})")


class Remainder(Function):
    """a - q * b; d/da = 1 and d/db = -q, as in PyTorch."""

    def forward(self, a, b, kind="remainder"):
        check_integer_divisor(kind, a, b)
        self.kind, self.a, self.b = kind, a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            return torch_dtype(_REMAINDERS[kind][0](a, b), a, b)

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(np.broadcast_to(g, np.broadcast_shapes(g.shape, _shape(a))),
                             _shape(a))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                q = _REMAINDERS[self.kind][1](a, b)
            gb = unbroadcast(-g * q, _shape(b)).astype(g.dtype, copy=False)
        return ga, gb

    def _name(self):
        return self.kind.title() + "Backward"


def _xlogy_forward(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a == 0, np.where(np.isnan(b), np.nan, 0.0), a * np.log(b))


# kind -> (forward(a, b), d/da(a, b, out), d/db(a, b, out)) on floating arrays.
_BINARY = {
    "atan2": (np.arctan2, lambda a, b, out: b / (a * a + b * b),
              lambda a, b, out: -a / (a * a + b * b)),
    "hypot": (np.hypot, lambda a, b, out: a / out, lambda a, b, out: b / out),
    "logaddexp": (np.logaddexp, lambda a, b, out: np.exp(a - out),
                  lambda a, b, out: np.exp(b - out)),
    "logaddexp2": (np.logaddexp2, lambda a, b, out: np.exp2(a - out),
                   lambda a, b, out: np.exp2(b - out)),
    "copysign": (np.copysign, lambda a, b, out: np.sign(a) * np.where(np.signbit(b), -1.0, 1.0),
                 lambda a, b, out: np.zeros_like(out)),
    "xlogy": (_xlogy_forward, lambda a, b, out: np.where(a == 0, 0.0, np.log(b)),
              lambda a, b, out: a / b),
}

# PyTorch has these for floating point only (atan2 and xlogy of integers compute in float).
_FLOAT_ONLY = ("hypot", "logaddexp", "logaddexp2")


class Binary(Function):
    """One of the differentiable functions of two tensors in _BINARY, with broadcasting;
    integer operands give a float32 result, as in PyTorch."""

    def forward(self, a, b, kind):
        if kind in _FLOAT_ONLY and not any(np.asarray(x).dtype.kind == "f" for x in (a, b)):
            raise TypeError(f"{kind}: not implemented for integer operands (dtypes "
                            f"{np.asarray(a).dtype} and {np.asarray(b).dtype}), as in PyTorch")
        self.kind, self.shapes = kind, (_shape(a), _shape(b))
        self.a, self.b = (x if isinstance(x, np.ndarray) and x.dtype.kind == "f"
                          else np.asarray(x, np.float32 if isinstance(x, np.ndarray) else None)
                          for x in (a, b))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(_BINARY[kind][0](self.a, self.b))
        self.out = torch_dtype(out if out.dtype.kind == "f" else out.astype(np.float32), a, b)
        return self.out

    def backward(self, g):
        _, da, db = _BINARY[self.kind]
        grads = []
        for need, derivative, shape in zip(self.needs_input_grad, (da, db), self.shapes):
            if not need:
                grads.append(None)
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                d = derivative(self.a, self.b, self.out)
            grads.append(unbroadcast(np.broadcast_to(g * d, g.shape), shape).astype(g.dtype))
        return tuple(grads)

    def _name(self):
        return self.kind.title() + "Backward"
