"""F.group_norm and F.instance_norm: statistics per sample (over groups of channels, or over
each channel's positions) rather than per batch, with PyTorch's semantics.

Both normalize rows of the input viewed as (N * groups, values per group) with the fused layer
norm kernel (its backward is exact and fast), then apply the per-channel affine transform with
broadcasting ops, so every gradient comes from existing, tested kernels.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..ops.norm import LayerNorm
from ..tensor import Tensor
from ._functional_norm import batch_norm


def _check_channel_vector(op, name, t, input):
    channels = input.shape[1]
    if t is None:
        return
    if tuple(t.shape) != (channels,):
        raise _core.ShapeError(f"{op}: expected {name} of shape ({channels},) for input of shape "
                               f"{tuple(input.shape)}, got {name} of shape {tuple(t.shape)}")
    if t.dtype != input.dtype:  # as the other norms: no silent promotion
        raise TypeError(f"{op}: {name} has dtype {t.dtype.name} but expected "
                        f"{input.dtype.name} like the input (shape {tuple(t.shape)})")


def _check_input(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise _core.ShapeError(f"{op}: Expected at least 2 dimensions for input tensor but "
                               f"received {input.ndim} (input shape {tuple(input.shape)})")


def _normalize_rows(input, rows, eps):
    """input normalized over each of `rows` equal contiguous chunks (biased variance)."""
    flat = input.reshape(rows, input.numel() // rows if rows else 0)
    return LayerNorm.apply(flat, None, None, eps=float(eps)).reshape(*input.shape)


def _affine(out, weight, bias):
    """out * weight + bias with weight and bias (C,) broadcast over dim 1 of (N, C, ...)."""
    view = (-1,) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(*view)
    if bias is not None:
        out = out + bias.reshape(*view)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes (N, C, ...) input over each sample's groups of C // num_groups channels, then
    scales and shifts each channel by weight and bias (C,)."""
    op = "group_norm"
    _check_input(op, input)
    n, channels = input.shape[0], input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) \
            or num_groups <= 0 or channels % num_groups:
        raise _core.ShapeError(f"{op}: Expected number of channels in input to be divisible by "
                               f"num_groups, but got input of shape {tuple(input.shape)} and "
                               f"num_groups={num_groups!r}")
    per_group = input.numel() // max(n * num_groups, 1)
    if n * num_groups and per_group == 1:
        raise ValueError(f"{op}: Expected more than 1 value per channel when training, got "
                         f"input size {[n * channels // num_groups, num_groups]}"
                         f"{list(input.shape[2:])}")
    _check_channel_vector(op, "weight", weight, input)
    _check_channel_vector(op, "bias", bias, input)
    return _affine(_normalize_rows(input, n * int(num_groups), eps), weight, bias)


def _update_running_stats(input, running_mean, running_var, momentum):
    """PyTorch's rule: each statistic moves toward the batch average of the per-instance mean
    and unbiased variance."""
    n, channels = input.shape[0], input.shape[1]
    values = input._array.reshape(n, channels, -1).astype(np.float64)
    stats = ((running_mean, values.mean(axis=2)), (running_var, values.var(axis=2, ddof=1)))
    for stat, per_instance in stats:
        if stat is None:
            continue
        arr = stat._array
        arr *= 1 - momentum
        arr += (momentum * per_instance.mean(axis=0)).astype(arr.dtype)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalizes each channel of each sample of (N, C, ...) input over its positions. With
    use_input_stats=False the running statistics are used instead (as in eval mode with
    track_running_stats=True); with use_input_stats=True, given running_mean/running_var are
    updated in place."""
    op = "instance_norm"
    _check_input(op, input)
    channels = input.shape[1]
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        _check_channel_vector(op, name, stat, input)
    _check_channel_vector(op, "weight", weight, input)
    _check_channel_vector(op, "bias", bias, input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: Expected running_mean and running_var to be defined when "
                             "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = int(np.prod(input.shape[2:], dtype=np.int64))
    if spatial == 1:
        raise ValueError(f"{op}: Expected more than 1 spatial element when training, got input "
                         f"size {list(input.shape)}")
    if running_mean is not None or running_var is not None:
        _update_running_stats(input, running_mean, running_var, float(momentum))
    return _affine(_normalize_rows(input, input.shape[0] * channels, eps), weight, bias)
