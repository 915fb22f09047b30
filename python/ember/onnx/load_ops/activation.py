"""Activations: Relu LeakyRelu Elu Gelu Sigmoid Tanh Softmax LogSoftmax Clip."""
from __future__ import annotations

import math

from ... import functions as fn
from ...nn import functional as F
from .registry import register
from .values import axis_of, scalar

register("Relu", since=6)(lambda node: F.relu)
register("Sigmoid", since=6)(lambda node: fn.sigmoid)
register("Tanh", since=6)(lambda node: fn.tanh)


@register("LeakyRelu", since=6)
def leaky_relu(node):
    alpha = node.float("alpha", 0.01)
    return lambda x: F.leaky_relu(x, alpha)


@register("Elu", since=6)
def elu(node):
    alpha = node.float("alpha", 1.0)
    return lambda x: F.elu(x, alpha)


@register("Gelu", since=20)
def gelu(node):
    approximate = node.string("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise node.error(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return lambda x: F.gelu(x, approximate=approximate)


def _softmax(node, f):
    if node.version >= 13:  # along one axis
        axis = node.int("axis", -1)
        return lambda x: f(x, dim=axis_of(axis, x.ndim))
    axis = node.int("axis", 1)  # before 13: over the input flattened to 2-D at `axis`

    def run(x):
        a = axis_of(axis, x.ndim) if x.ndim else 0
        rows = math.prod(x.shape[:a])
        flat = x.reshape(rows, math.prod(x.shape[a:]))
        return f(flat, dim=1).reshape(tuple(x.shape))
    return run


register("Softmax", since=1)(lambda node: _softmax(node, F.softmax))
register("LogSoftmax", since=1)(lambda node: _softmax(node, F.log_softmax))


@register("Clip", since=6)
def clip(node):
    if node.version < 11:  # bounds as attributes
        low, high = node.float("min", -math.inf), node.float("max", math.inf)
        return lambda x: fn.clamp(x, low, high)

    def run(x, low=None, high=None):
        return fn.clamp(x, None if low is None else scalar(low, "Clip min"),
                        None if high is None else scalar(high, "Clip max"))
    return run
