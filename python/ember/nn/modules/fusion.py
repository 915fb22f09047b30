"""nn.Sequential's fused steps: a layer and the activation after it run as one kernel call.

- Linear followed by ReLU, Sigmoid or Tanh becomes ops.linalg.LinearActivation: the same
  arithmetic in one kernel call and one autograd node instead of two, which is most of a small
  model's per-layer cost. Without gradient recording (inference) fused steps and plain Linear
  layers call their kernel on the arrays directly, with no node (ops.linalg.linear_activation).
- A convolution or batch norm followed by nn.ReLU runs the layer's forward_fused_relu: the
  ReLU is computed in the layer's own kernel (one pass over the activations less each way), on
  the graph and the no-graph path alike.

Only these classes fuse (Linear exactly; a convolution or batch norm whose forward is ember's,
since a subclass may override it), and a step runs module by module whenever a module in it has
hooks (nothing may observe the intermediate output) or, for Linear, the input is not a 2-D
tensor, so what users observe does not change.
"""
from __future__ import annotations

from ...ops.linalg import linear_activation
from ...tensor import Tensor
from .activation import ReLU, Sigmoid, Tanh
from .conv import _ConvNd
from .linear import Linear
from .normalization import _BatchNorm
from .utils import weight_and_bias

_FUSED_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}
_LINEAR = "linear"  # the kind of a step that is a Linear alone (linear_activation's name)
_RELU_EPILOGUE = "relu_epilogue"  # a convolution or batch norm with ReLU in its kernel


def _has_relu_epilogue(module) -> bool:
    """Whether module's forward is ember's convolution or batch norm (forward_fused_relu then
    computes forward followed by ReLU)."""
    for base in (_ConvNd, _BatchNorm):
        if isinstance(module, base):
            return type(module).forward is base.forward
    return False


def plan(modules) -> list:
    """Steps (module, following activation module or None, kind): kind is an activation name
    for a fused Linear pair, _LINEAR for a Linear alone, _RELU_EPILOGUE for a convolution or
    batch norm with the ReLU after it, None for any other module."""
    steps, i, n = [], 0, len(modules)
    while i < n:
        module = modules[i]
        after = modules[i + 1] if i + 1 < n else None
        if type(module) is Linear:
            kind = _FUSED_ACTIVATIONS.get(type(after))
            steps.append((module, after, kind) if kind else (module, None, _LINEAR))
        elif type(after) is ReLU and _has_relu_epilogue(module):
            steps.append((module, after, _RELU_EPILOGUE))
        else:
            steps.append((module, None, None))
        i += 1 if steps[-1][1] is None else 2
    return steps


def run(steps, input):
    for module, activation, kind in steps:
        if kind is None:
            input = module(input)
        elif (module._forward_pre_hooks or module._forward_hooks or (activation is not None and (
                activation._forward_pre_hooks or activation._forward_hooks))):
            input = module(input) if activation is None else activation(module(input))
        elif kind is _RELU_EPILOGUE:
            input = module.forward_fused_relu(input)  # the same result, one pass less
        elif not isinstance(input, Tensor) or input._array.ndim != 2:
            input = module(input) if activation is None else activation(module(input))
        else:
            weight, bias = weight_and_bias(module)
            input = linear_activation(input, weight, bias, kind)
    return input
