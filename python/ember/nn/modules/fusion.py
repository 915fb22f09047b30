"""nn.Sequential's fused layers: a Linear followed by ReLU, Sigmoid or Tanh runs as one node.

The pair becomes ops.linalg.LinearActivation: the same arithmetic in one kernel call and one
autograd node instead of two, which is most of a small model's per-layer cost. Without gradient
recording (inference) fused steps and plain Linear layers call their kernel on the arrays
directly, with no node at all (ops.linalg.linear_activation). Only these exact classes fuse (a
subclass may override forward), and a step runs module by module whenever a module in it has
hooks or the input is not a 2-D tensor, so what users observe does not change.
"""
from __future__ import annotations

from ...ops.linalg import linear_activation
from ...tensor import Tensor
from .activation import ReLU, Sigmoid, Tanh
from .linear import Linear
from .utils import weight_and_bias

_FUSED_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}
_LINEAR = "linear"  # the kind of a step that is a Linear alone (linear_activation's name)


def plan(modules) -> list:
    """Steps (module, following activation module or None, kind): kind is an activation name
    for a fused pair, _LINEAR for a Linear alone, None for any other module."""
    steps, i = [], 0
    while i < len(modules):
        module = modules[i]
        after = modules[i + 1] if i + 1 < len(modules) else None
        if type(module) is not Linear:
            steps.append((module, None, None))
        elif type(after) in _FUSED_ACTIVATIONS:
            steps.append((module, after, _FUSED_ACTIVATIONS[type(after)]))
            i += 1
        else:
            steps.append((module, None, _LINEAR))
        i += 1
    return steps


def run(steps, input):
    for module, activation, kind in steps:
        if kind is None:
            input = module(input)
        elif (module._forward_pre_hooks or module._forward_hooks or not isinstance(input, Tensor)
              or input._array.ndim != 2 or (activation is not None and (
                  activation._forward_pre_hooks or activation._forward_hooks))):
            input = module(input) if activation is None else activation(module(input))
        else:
            weight, bias = weight_and_bias(module)
            input = linear_activation(input, weight, bias, kind)
    return input
