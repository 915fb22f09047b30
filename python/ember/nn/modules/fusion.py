"""nn.Sequential's fused layers: a Linear followed by ReLU, Sigmoid or Tanh runs as one node.

The pair becomes ops.linalg.LinearActivation: the same arithmetic in one kernel call and one
autograd node instead of two, which is most of a small model's per-layer cost. Only these exact
classes fuse (a subclass may override forward), and a pair runs module by module whenever either
module has hooks or the input is not a 2-D tensor, so what users observe does not change.
"""
from __future__ import annotations

from ...ops.linalg import LinearActivation
from ...tensor import Tensor
from .activation import ReLU, Sigmoid, Tanh
from .linear import Linear
from .utils import weight_and_bias

_FUSED_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def plan(modules) -> list:
    """Steps (module, following activation module or None, activation name or None)."""
    steps, i = [], 0
    while i < len(modules):
        module = modules[i]
        after = modules[i + 1] if i + 1 < len(modules) else None
        kind = _FUSED_ACTIVATIONS.get(type(after)) if type(module) is Linear else None
        steps.append((module, after, kind) if kind else (module, None, None))
        i += 2 if kind else 1
    return steps


def run(steps, input):
    for module, activation, kind in steps:
        if kind is None:
            input = module(input)
        elif (module._forward_pre_hooks or module._forward_hooks or activation._forward_pre_hooks
              or activation._forward_hooks or not isinstance(input, Tensor)
              or input._array.ndim != 2):
            input = activation(module(input))
        else:
            weight, bias = weight_and_bias(module)
            input = LinearActivation.apply(input, weight, bias, activation=kind)
    return input
