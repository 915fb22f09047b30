"""Keras activations (``keras.activations``): functions of ember tensors, found by name or passed
as callables. Each is a composition of ember.nn.functional ops, with Keras' defaults."""
from __future__ import annotations

import ember
from ..nn import functional as F
from .activations_more import (celu, exponential, glu, hard_shrink, hard_sigmoid,  # noqa: F401
                               hard_silu, hard_swish, hard_tanh, log_sigmoid, mish, relu6,
                               soft_shrink, softsign, sparse_plus, sparse_sigmoid, sparsemax,
                               squareplus, tanh_shrink, threshold)


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' rectifier: x above ``threshold`` (strictly; 0 elsewhere), clipped to
    [0, max_value], minus negative_slope * relu(threshold - x)."""
    if max_value is None and threshold == 0:
        if negative_slope == 0:
            return F.relu(x)
        return F.leaky_relu(x, negative_slope=negative_slope)
    out = ember.where(x > threshold, x, 0.0) if threshold != 0 else F.relu(x)
    if max_value is not None:
        out = ember.clamp(out, 0.0, max_value)
    if negative_slope != 0:
        out = out - F.relu(threshold - x) * negative_slope
    return out


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def softmax(x, axis=-1):
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def elu(x, alpha=1.0):
    return F.elu(x, alpha=alpha)


def selu(x):
    # Keras/PyTorch SELU constants.
    return F.elu(x, alpha=1.6732632423543772848170429916717) * 1.0507009873554804934193349852946


def gelu(x, approximate=False):
    # keras.activations.gelu defaults to the exact (erf) form.
    return F.gelu(x, approximate="tanh" if approximate else "none")


def softplus(x):
    return F.softplus(x)


def leaky_relu(x, negative_slope=0.2):
    # Keras' default slope is 0.2 (PyTorch's is 0.01).
    return F.leaky_relu(x, negative_slope=negative_slope)


def silu(x):
    return x * F.sigmoid(x)


swish = silu

_BY_NAME = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "elu": elu, "selu": selu, "gelu": gelu, "softplus": softplus,
    "leaky_relu": leaky_relu, "silu": silu, "swish": swish,
}
# The rest of Keras 3's activations (activations_more.py), by name.
_BY_NAME.update({fn.__name__: fn for fn in (
    celu, exponential, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh, log_sigmoid, mish,
    relu6, soft_shrink, softsign, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
    tanh_shrink, threshold)})
_BY_NAME["hard_swish"] = hard_swish


def get(identifier):
    """An activation function from a name, a callable, or None (meaning linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(f"Could not interpret activation function identifier: "
                             f"{identifier!r}. Valid names are: "
                             f"{', '.join(sorted(_BY_NAME))} (or None, or a callable).") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}. "
                     "Expected a name, a callable or None.")


def serialize(activation) -> str:
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))
