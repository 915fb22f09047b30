"""Matrix products: matmul with PyTorch's 1-D and broadcasting rules, and the linear layer."""
import math

import numpy as np

from .. import _core, autograd
from ..autograd import Function
from ..tensor import Tensor
from ._broadcast import unbroadcast


def _is_float(a):
    return a.dtype.kind == "f"


class Matmul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise _core.ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                                   f"{tuple(a.shape)} and {tuple(b.shape)}")
        if a.dtype != b.dtype:
            raise TypeError(f"matmul: expected both operands to have the same dtype, got "
                            f"{a.dtype} and {b.dtype}")
        # 1-D operands become matrices (a row, b a column) and lose that axis again at the end.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a2.shape[-1] != b2.shape[-2]:
            raise _core.ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot "
                                   f"be multiplied ({a2.shape[-1]} != {b2.shape[-2]})")
        m, k, n = a2.shape[-2], a2.shape[-1], b2.shape[-1]
        self.shapes = (a.shape, a2.shape, b.shape, b2.shape)
        if b2.ndim == 2:  # (..., m, k) @ (k, n): one GEMM over all rows
            # Explicit row counts: reshape(-1, 0) cannot infer the -1 of an empty product.
            self.a3, self.b3 = a2.reshape(math.prod(a2.shape[:-1]), k), b2
            self.a_full, self.b_full = a2.shape, b2.shape
            out = self._mm(self.a3, self.b3).reshape(*a2.shape[:-1], n)
        else:
            try:
                batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            except ValueError:
                raise _core.ShapeError(f"matmul: batch dimensions of shapes {tuple(a.shape)} and "
                                       f"{tuple(b.shape)} cannot be broadcast") from None
            self.a_full, self.b_full = batch + (m, k), batch + (k, n)
            self.a3 = np.broadcast_to(a2, self.a_full).reshape(math.prod(batch), m, k)
            self.b3 = np.broadcast_to(b2, self.b_full).reshape(math.prod(batch), k, n)
            out = self._mm(self.a3, self.b3).reshape(*batch, m, n)
        if a.ndim == 1:
            out = out.squeeze(-2)
        if b.ndim == 1:
            out = out.squeeze(-1)
        return out

    @staticmethod
    def _mm(a, b):
        if _is_float(a):
            return _core.matmul_forward(a, b)
        return np.matmul(a, b)

    def backward(self, g):
        a_shape, a2_shape, b_shape, b2_shape = self.shapes
        g3 = g.reshape(self.a3.shape[:-1] + (self.b3.shape[-1],))
        ga3, gb3 = _core.matmul_backward(g3, self.a3, self.b3, self.needs_input_grad[0],
                                         self.needs_input_grad[1])
        ga = None if ga3 is None else unbroadcast(ga3.reshape(self.a_full), a2_shape).reshape(a_shape)
        gb = None if gb3 is None else unbroadcast(gb3.reshape(self.b_full), b2_shape).reshape(b_shape)
        return ga, gb


class Linear(Function):
    """input (..., in) @ weight (out, in).T + bias (out), batched over leading dims."""

    new_grads = True

    def forward(self, x, weight, bias=None):
        if x.ndim == 0:
            raise _core.ShapeError(f"linear: input must have at least 1 dimension, got a scalar")
        self.x_shape = x.shape
        self.x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        self.weight = weight
        y = _core.linear_forward(self.x2, weight, bias)
        return y.reshape(*x.shape[:-1], weight.shape[0]) if x.ndim != 2 else y

    def backward(self, g):
        need = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx, gw, gb = _core.linear_backward(g2, self.x2, self.weight, need[0], need[1],
                                           len(need) > 2 and need[2])
        if gx is not None and len(self.x_shape) != 2:
            gx = gx.reshape(self.x_shape)
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


class LinearActivation(Function):
    """activation(input @ weight.T + bias) as one node, for an activation its output
    differentiates (relu, sigmoid, tanh): nn.Sequential and keras Dense use it for a Linear
    followed by one of those, halving the per-layer cost of small models."""

    new_grads = True

    def forward(self, x, weight, bias=None, activation="relu"):
        if x.ndim != 2:  # Sequential and Dense fuse only 2-D input; see linear() for the rest
            raise _core.ShapeError(f"linear_activation: expected a 2-D input, got shape "
                                   f"{tuple(x.shape)}")
        self.x, self.weight, self.kind = x, weight, activation
        self.y = _core.linear_activation_forward(x, weight, bias, activation)
        return self.y

    def backward(self, g):
        need = self.needs_input_grad
        gx, gw, gb = _core.linear_activation_backward(g, self.x, self.weight, self.y, self.kind,
                                                      need[0], need[1], need[2])
        return gx, gw, gb

    def _name(self):
        return self.kind.title() + "Backward"  # the output's grad_fn in PyTorch: the activation's


def linear_activation(x, weight, bias, activation):
    """activation(x @ weight.T + bias) for a 2-D tensor x, where activation is "relu",
    "sigmoid", "tanh" or "linear" (none): the LinearActivation (or Linear) node when gradients
    are recorded, else the kernel straight on the arrays, with no node, which is what batch-1
    inference through nn.Sequential and keras Dense costs."""
    if autograd._state.enabled:
        if activation == "linear":
            return Linear.apply(x, weight, bias)
        return LinearActivation.apply(x, weight, bias, activation=activation)
    w, b = _array_of(weight), _array_of(bias)
    if activation == "linear":
        return Tensor._from_op(_core.linear_forward(x._array, w, b), None)
    return Tensor._from_op(_core.linear_activation_forward(x._array, w, b, activation), None)


def _array_of(t):
    return t._array if isinstance(t, Tensor) else t  # (None, or an array passed as is)
