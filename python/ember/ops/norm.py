"""Batch and layer normalization, computed by the C++ kernels."""
import numpy as np

from .. import _core
from ..autograd import Function


class BatchNorm(Function):
    """inputs: (input, weight or None, bias or None). In training mode the batch statistics are
    used; `stats_sink`, if given, receives them as (mean, biased variance) for running averages.
    With relu the kernel applies ReLU to its output, and backward masks by that output."""

    def forward(self, x, weight, bias, mean=None, var=None, training=True, eps=1e-5,
                channels_last=False, stats_sink=None, relu=False):
        self.x, self.weight, self.training, self.channels_last = x, weight, training, channels_last
        if training:
            y, mean, var = _core.batch_norm_forward_train(x, weight, bias, eps, channels_last,
                                                          relu)
            if stats_sink is not None:
                stats_sink.append((mean, var))
        else:
            y = _core.batch_norm_forward_eval(x, mean, var, weight, bias, eps, channels_last,
                                              relu)
        self.relu_output = y if relu else None
        self.mean = mean
        self.invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
        return y

    def backward(self, g):
        need = self.needs_input_grad
        return _core.batch_norm_backward(g, self.x, self.mean, self.invstd, self.weight,
                                         self.training, self.channels_last, need[0], need[1],
                                         need[2], self.relu_output)


class LayerNorm(Function):
    """inputs: (input (rows, cols), weight (cols) or None, bias (cols) or None)."""

    def forward(self, x, weight, bias, eps=1e-5):
        y, self.mean, self.invstd = _core.layer_norm_forward(x, weight, bias, eps)
        self.x, self.weight = x, weight
        return y

    def backward(self, g):
        need = self.needs_input_grad
        return _core.layer_norm_backward(g, self.x, self.mean, self.invstd, self.weight, need[0],
                                         need[1], need[2])
