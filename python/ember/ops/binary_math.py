"""remainder and fmod: the two remainders of a division, differentiable in both operands."""
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
