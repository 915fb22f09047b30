"""Conv1d and Conv2d: PyTorch's convolution layers (NCL / NCHW, weight (out, in/groups, *k))."""
from __future__ import annotations

import math

import numpy as np

from ..._bounds import empty_parameter
from ...dtypes import to_numpy_dtype
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .utils import _check_device, _check_int, _int_tuple, weight_and_bias

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of Conv1d/Conv2d (PyTorch's _ConvNd)."""

    _n = 0  # spatial dimensions, set by the subclasses
    transposed = False  # weight (in, out/groups, *k) instead of (out, in/groups, *k)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._n
        _check_device(name, device)
        in_channels = _check_int(name, "in_channels", in_channels, minimum=1)
        out_channels = _check_int(name, "out_channels", out_channels, minimum=1)
        kernel_size = _int_tuple(name, "kernel_size", kernel_size, n)
        stride = _int_tuple(name, "stride", stride, n)
        dilation = _int_tuple(name, "dilation", dilation, n)
        if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)) \
                or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer. Received: "
                             f"groups={groups!r}")
        groups = int(groups)
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups. Received: "
                             f"in_channels={in_channels}, groups={groups}")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups. Received: "
                             f"out_channels={out_channels}, groups={groups}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one of "
                                 "{'same', 'valid'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions. Received: stride={stride}")
        else:
            padding = _int_tuple(name, "padding", padding, n, minimum=0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {set(_PADDING_MODES)}, but "
                             f"got padding_mode={padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.output_padding = (0,) * n  # a transposed convolution's, set by its class
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._padding_for_pad()
        self._create_parameters(bias, dtype)

    def _create_parameters(self, bias, dtype) -> None:
        """weight and bias from the hyper-parameters, initialised (lazy modules: left
        uninitialized until their first input)."""
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        groups, out_channels = self.groups, self.out_channels
        channels = ((self.in_channels, out_channels // groups) if self.transposed else
                    (out_channels, self.in_channels // groups))
        self.weight = Parameter(empty_parameter(type(self).__name__, (*channels, *self.kernel_size),
                                                np_dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=np_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _padding_for_pad(self) -> list:
        """F.pad's (last dim first) padding list; for "same", odd totals put the extra at the
        end, as PyTorch does."""
        if self.padding == "valid":
            return [0, 0] * self._n
        if self.padding == "same":
            pads = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return pads
        return [p for p in reversed(self.padding) for _ in range(2)]

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _conv(self, input, padding, fuse_relu=False):
        raise NotImplementedError

    def forward(self, input):
        return self.forward_fused_relu(input, False)

    def forward_fused_relu(self, input, fuse_relu=True):
        """forward, then ReLU computed in the convolution's pass (nn.Sequential uses it for a
        convolution followed by nn.ReLU)."""
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._conv(padded, (0,) * self._n, fuse_relu)
        return self._conv(input, self.padding, fuse_relu)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if isinstance(self.padding, str) or any(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L) input."""

    _n = 1

    def _conv(self, input, padding, fuse_relu=False):
        weight, bias = weight_and_bias(self)
        return F.conv1d(input, weight, bias, self.stride, padding, self.dilation, self.groups,
                        fuse_relu=fuse_relu)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) input."""

    _n = 2

    def _conv(self, input, padding, fuse_relu=False):
        weight, bias = weight_and_bias(self)
        return F.conv2d(input, weight, bias, self.stride, padding, self.dilation, self.groups,
                        fuse_relu=fuse_relu)
