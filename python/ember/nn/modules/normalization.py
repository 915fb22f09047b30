"""BatchNorm1d, BatchNorm2d and LayerNorm with PyTorch's parameters, buffers and state_dict names.

BatchNorm keeps ``running_mean``, ``running_var`` (float, like the weights) and
``num_batches_tracked`` (int64, 0-d) as buffers; F.batch_norm updates the running statistics in
place while training.
"""
from __future__ import annotations

import numpy as np

from ..._bounds import empty_parameter
from ...dtypes import to_numpy_dtype
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .utils import _check_device, _check_int, _is_int


def _check_float(name, arg, value, low, high, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name}: {arg} must be a number in [{low}, {high}]"
                         f"{' or None' if allow_none else ''}. Received: {arg}={value!r}")


def add_affine_parameters(module, shape, affine, bias, np_dtype) -> None:
    """Registers weight and bias of `shape` (or None for each one switched off), as every
    normalization layer does; reset_affine_parameters gives them their values."""
    weight = Parameter(empty_parameter(type(module).__name__, shape, np_dtype)) if affine else None
    module.register_parameter("weight", weight)
    module.register_parameter("bias", Parameter(np.empty(shape, dtype=np_dtype))
                              if affine and bias else None)


def reset_affine_parameters(module) -> None:
    """Weight ones and bias zeros: the identity transform."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _buffer(array) -> Tensor:
    return Tensor._from_op(array, None)


class _NormBase(Module):
    """Weight, bias and running-statistics buffers shared by batch and instance norm (PyTorch's
    _NormBase)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        _check_device(name, device)
        num_features = _check_int(name, "num_features", num_features, minimum=1)
        _check_float(name, "eps", eps, 0.0, float("inf"))
        _check_float(name, "momentum", momentum, 0.0, 1.0, allow_none=True)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        add_affine_parameters(self, (num_features,), affine, bias, np_dtype)
        if track_running_stats:
            self.register_buffer("running_mean", _buffer(np.zeros(num_features, np_dtype)))
            self.register_buffer("running_var", _buffer(np.ones(num_features, np_dtype)))
            self.register_buffer("num_batches_tracked", _buffer(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine_parameters(self)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys,
                              error_msgs):
        # Like PyTorch, a checkpoint without num_batches_tracked (older PyTorch) still loads.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked._array.copy()
        super()._load_from_state_dict(state_dict, prefix, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Statistics over the batch (and positions) of each channel; running ones for eval."""

    def forward(self, input):
        return self.forward_fused_relu(input, False)

    def forward_fused_relu(self, input, fuse_relu=True):
        """forward, then ReLU computed in the normalization's pass (nn.Sequential uses it for a
        batch norm followed by nn.ReLU)."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._array[...] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._array)
        # Batch statistics while training, or in eval when there are no running statistics.
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps, fuse_relu=fuse_relu)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) input, per channel C."""

    def _check_input_dim(self, input) -> None:
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) input, per channel C."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class LayerNorm(Module):
    """Normalizes over the trailing ``normalized_shape`` dimensions of each sample."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _check_device("LayerNorm", device)
        shape = (normalized_shape,) if _is_int(normalized_shape) else normalized_shape
        try:
            shape = tuple(shape)
        except TypeError:
            shape = None
        if not shape or not all(_is_int(s) and s >= 1 for s in shape):
            raise ValueError("LayerNorm: normalized_shape must be a positive integer or a "
                             "non-empty sequence of positive integers. Received: "
                             f"normalized_shape={normalized_shape!r}")
        _check_float("LayerNorm", "eps", eps, 0.0, float("inf"))
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        add_affine_parameters(self, self.normalized_shape, elementwise_affine, bias, np_dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_parameters(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
