"""nn.init: in-place weight initialisers with PyTorch's names, signatures and formulas.

Every function works under no_grad, fills the given tensor in place and returns it. Random
numbers come from ember's generator (or ``generator=``), so ``ember.manual_seed`` makes
initialisation reproducible.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import autograd
from .._public_errors import tensor_argument
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]


def _write(tensor: Tensor, values) -> None:
    """Copies values into tensor's memory (so views such as state_dict entries see them)."""
    arr = tensor._array
    if arr.flags.writeable:
        np.copyto(arr, values, casting="unsafe")
    else:
        tensor._array = np.array(np.broadcast_to(values, arr.shape), dtype=arr.dtype)


def _standard_normal(shape, dtype, generator) -> np.ndarray:
    """A fresh array of N(0, 1) samples from ember's generator."""
    t = Tensor._from_op(np.empty(shape, dtype=dtype), None)
    t.normal_(0.0, 1.0, generator=generator)
    return t._array


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for the given nonlinearity (PyTorch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    num_input_fmaps = tensor.shape[1]
    num_output_fmaps = tensor.shape[0]
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    valid_modes = ["fan_in", "fan_out"]
    if not isinstance(mode, str) or mode.lower() not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    mode = mode.lower()
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fills tensor with U(a, b)."""
    with autograd.no_grad():
        tensor.uniform_(a, b, generator=generator)
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fills tensor with N(mean, std**2)."""
    with autograd.no_grad():
        tensor.normal_(mean, std, generator=generator)
    return tensor


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """Fills tensor with N(mean, std**2) restricted to [a, b] (a and b are absolute values).

    Samples by rejection: same distribution as PyTorch's inverse-CDF method, without erfinv.
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    arr = tensor._array
    out = np.empty(arr.size, dtype=np.float64)
    todo = np.arange(arr.size)
    for _ in range(1000):
        if todo.size == 0:
            break
        draw = mean + std * _standard_normal((todo.size,), np.float64, generator)
        ok = (draw >= a) & (draw <= b)
        out[todo[ok]] = draw[ok]
        todo = todo[~ok]
    if todo.size:  # [a, b] far in a tail: the clamp PyTorch also applies as a last resort
        draw = mean + std * _standard_normal((todo.size,), np.float64, generator)
        out[todo] = np.clip(draw, a, b)
    with autograd.no_grad():
        _write(tensor, out.reshape(arr.shape))
    return tensor


def constant_(tensor, val: float):
    """Fills tensor with val."""
    with autograd.no_grad():
        _write(tensor, val)
    return tensor


def ones_(tensor):
    return constant_(tensor_argument("ones_", "tensor", tensor), 1.0)


def zeros_(tensor):
    return constant_(tensor_argument("zeros_", "tensor", tensor), 0.0)


def eye_(tensor):
    """Fills a 2-d tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with autograd.no_grad():
        _write(tensor, np.eye(*tensor.shape))
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator=generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """He normal: N(0, std**2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator=generator)


def orthogonal_(tensor, gain: float = 1, generator=None):
    """Fills tensor with a (semi-)orthogonal matrix from the QR decomposition of N(0, 1) noise,
    trailing dimensions flattened (PyTorch's algorithm)."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _standard_normal((rows, cols), np.float64, generator)
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))  # makes the decomposition unique, hence uniformly distributed
    if rows < cols:
        q = q.T
    with autograd.no_grad():
        _write(tensor, (gain * q).reshape(tensor.shape))
    return tensor


# Last: a bad argument (None for the tensor, a string for the gain) raises PyTorch's errors,
# never an internal one (issue 11).
from .._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__, skip=())
