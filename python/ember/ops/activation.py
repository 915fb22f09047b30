"""Activations and the softmax family, computed by the C++ kernels."""
import numpy as np

from .. import _core
from ..autograd import Function
from ..tensor import Tensor


def _require_float(op, a):
    if a.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {a.dtype} with shape "
                        f"{tuple(a.shape)}")


# The kernels by activation name ("relu" -> _core.relu_forward), looked up once.
_FORWARD = {name[:-len("_forward")]: getattr(_core, name) for name in dir(_core)
            if name.endswith("_forward")}
_BACKWARD = {name[:-len("_backward")]: getattr(_core, name) for name in dir(_core)
             if name.endswith("_backward")}


class Activation(Function):
    """An elementwise activation named `kind` with kernel parameters alpha and beta."""

    new_grads = True

    def forward(self, x, kind, alpha=0.0, beta=0.0):
        _require_float(kind, x)
        self.kind, self.alpha, self.beta = kind, alpha, beta
        y = _FORWARD[kind](x, alpha, beta)
        self.saved = y if kind in ("sigmoid", "tanh") else x
        return y

    def backward(self, g):
        return (_BACKWARD[self.kind](g, self.saved, self.alpha, self.beta),)

    @staticmethod
    def infer(x, kind, alpha=0.0, beta=0.0):
        """The output without a graph (as Conv2d.infer)."""
        _require_float(kind, x._array)
        return Tensor._from_op(_FORWARD[kind](x._array, alpha, beta), None)

    def _name(self):
        return self.kind.title().replace("_", "") + "Backward"


class Softmax(Function):
    new_grads = True

    def forward(self, x, dim, log=False):
        _require_float("log_softmax" if log else "softmax", x)
        self.dim, self.log = dim, log
        self.out = (_core.log_softmax_forward if log else _core.softmax_forward)(x, dim)
        return self.out

    def backward(self, g):
        fn = _core.log_softmax_backward if self.log else _core.softmax_backward
        return (fn(g, self.out, self.dim),)

    @staticmethod
    def infer(x, dim, log=False):
        """The output without a graph (as Conv2d.infer)."""
        _require_float("log_softmax" if log else "softmax", x._array)
        kernel = _core.log_softmax_forward if log else _core.softmax_forward
        return Tensor._from_op(kernel(x._array, dim), None)


class Dropout(Function):
    """Multiplies by a Bernoulli(1-p) mask scaled by 1/(1-p); `mask` comes from the caller's RNG
    and may broadcast (channel-wise dropout)."""

    new_grads = True

    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, g):
        return (g * self.mask, None)


class ElementDropout(Function):
    """Dropout of every element of a float32/float64 input in one threaded pass: the kernel draws
    the mask from `seed` (Philox4x32-10, the same mask at any thread count) and keeps it for
    backward."""

    new_grads = True

    def forward(self, x, p, seed):
        y, self.mask = _core.dropout_forward(x, p, seed)
        return y

    def backward(self, g):
        return (_core.dropout_backward(g, self.mask),)

    def _name(self):
        return "MulBackward"  # as PyTorch's CPU dropout (input times mask) names it
