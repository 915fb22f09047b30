"""Normalizations: BatchNormalization (inference form, statistics as buffers) and
LayerNormalization."""
from __future__ import annotations

from ...nn import functional as F
from .registry import register
from .values import axis_of


@register("BatchNormalization", since=7, frozen_inputs=(3, 4))
def batch_norm(node):
    eps = node.float("epsilon", 1e-5)
    if node.version < 9 and node.int("spatial", 1) != 1:
        raise node.unsupported("BatchNormalization with spatial=0")
    if node.int("training_mode", 0) or any(node.wants_output(i) for i in (1, 2, 3, 4)):
        raise node.unsupported("BatchNormalization in training mode (batch statistics and "
                               "updated running statistics)")

    def run(x, scale, bias, mean, var):
        return F.batch_norm(x, mean, var, scale, bias, training=False, eps=eps)
    return run


@register("LayerNormalization", since=17)
def layer_norm(node):
    axis, eps = node.int("axis", -1), node.float("epsilon", 1e-5)
    if node.wants_output(1) or node.wants_output(2):
        raise node.unsupported("LayerNormalization's Mean and InvStdDev outputs")

    def run(x, scale, bias=None):
        shape = tuple(x.shape[axis_of(axis, x.ndim):])
        if tuple(scale.shape) == shape and (bias is None or tuple(bias.shape) == shape):
            return F.layer_norm(x, shape, scale, bias, eps)
        # scale and bias that only broadcast to the normalized shape
        y = F.layer_norm(x, shape, None, None, eps) * scale
        return y if bias is None else y + bias
    return run
