"""LazyBatchNorm1d/2d: num_features from the first input's channels."""
from __future__ import annotations

from .._uninitialized import UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .normalization import BatchNorm1d, BatchNorm2d


class _LazyNormBase(LazyModuleMixin):
    """Built with a placeholder num_features (1); weight, bias, running_mean and running_var
    stay uninitialized and num_features reads 0 until the first input (PyTorch's)."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(1, eps, momentum, affine, track_running_stats, device, dtype)
        self.num_features = 0
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(dtype=dtype))

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self._check_input_dim(input)
        self.num_features = int(input.shape[1])
        for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
            if tensor is not None:
                tensor.materialize((self.num_features,))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """BatchNorm1d with num_features inferred from the first input; becomes a BatchNorm1d."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """BatchNorm2d with num_features inferred from the first input; becomes a BatchNorm2d."""

    cls_to_become = BatchNorm2d
