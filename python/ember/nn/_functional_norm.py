"""F.batch_norm and F.layer_norm (PyTorch semantics; channels_last for the Keras face)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _core
from ..ops.norm import BatchNorm, LayerNorm
from ..tensor import Tensor


def _array(t):
    return None if t is None else (t._array if isinstance(t, Tensor) else np.asarray(t))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, channels_last=False, fuse_relu=False):
    """Normalizes each channel of (N, C, ...) input (or (N, ..., C) with channels_last). In
    training mode uses the batch statistics and, if running_mean/var are given, updates them in
    place: new = (1 - momentum) * old + momentum * batch (unbiased variance). fuse_relu (ember
    extension) returns F.relu of the result, computed in the normalization's own pass."""
    op = "batch_norm"
    if input.ndim < 2:
        raise _core.ShapeError(f"{op}: expected input of at least 2 dimensions (N, C, ...), got "
                               f"shape {tuple(input.shape)}")
    c_axis = input.ndim - 1 if channels_last else 1
    per_channel = input.numel() // max(input.shape[c_axis], 1)
    if training and per_channel == 1:  # an empty batch passes through, as in PyTorch
        raise ValueError(f"{op}: Expected more than 1 value per channel when training, got input "
                         f"size {list(input.shape)}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{op}: running_mean and running_var are required when not training")
    stats = []
    out = BatchNorm.apply(input, weight, bias, mean=_array(running_mean),
                          var=_array(running_var), training=bool(training), eps=float(eps),
                          channels_last=channels_last, stats_sink=stats, relu=bool(fuse_relu))
    if training and running_mean is not None and per_channel > 0:
        batch_mean, batch_var = stats[0]
        unbiased = batch_var * (per_channel / (per_channel - 1))
        for stat, new in ((running_mean, batch_mean), (running_var, unbiased)):
            arr = _array(stat)
            arr *= 1 - momentum
            arr += momentum * new.astype(arr.dtype, copy=False)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    op = "layer_norm"
    shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise _core.ShapeError(f"{op}: normalized_shape {list(shape)} does not match the last "
                               f"dimensions of input shape {tuple(input.shape)}")
    cols = int(np.prod(shape))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise _core.ShapeError(f"{op}: {name} must have shape {shape}, got {tuple(t.shape)}")
    w = weight.reshape(cols) if weight is not None else None
    b = bias.reshape(cols) if bias is not None else None
    out = LayerNorm.apply(input.reshape(-1, cols), w, b, eps=float(eps))
    return out.reshape(*input.shape)
