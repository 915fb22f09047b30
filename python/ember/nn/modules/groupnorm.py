"""GroupNorm: each sample's channels split into groups, each group normalized over its channels
and positions; PyTorch's arguments, parameters and state_dict names."""
from __future__ import annotations

import numpy as np

from ...dtypes import to_numpy_dtype
from .. import functional as F
from ..module import Module
from .normalization import _check_float, add_affine_parameters, reset_affine_parameters
from .utils import _check_device, _check_int


class GroupNorm(Module):
    """Group normalization of (N, C, ...) input with num_channels C split into num_groups."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        _check_device("GroupNorm", device)
        num_groups = _check_int("GroupNorm", "num_groups", num_groups, minimum=1)
        num_channels = _check_int("GroupNorm", "num_channels", num_channels, minimum=1)
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        _check_float("GroupNorm", "eps", eps, 0.0, float("inf"))
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        add_affine_parameters(self, (num_channels,), affine, bias, np_dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_parameters(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
