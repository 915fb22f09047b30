"""LazyConv1d/2d and LazyConvTranspose1d/2d: in_channels from the first input's channels."""
from __future__ import annotations

from .._uninitialized import UninitializedParameter
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d
from .lazy import LazyModuleMixin
from .utils import _is_int


class _LazyConvXdMixin(LazyModuleMixin):
    """Built with a placeholder in_channels (groups) and uninitialized weight and bias;
    in_channels reads 0 until the first input (PyTorch's)."""

    def _create_parameters(self, bias, dtype) -> None:
        self.in_channels = 0
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input) -> int:
        n = self._n
        if input.ndim not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{tuple(input.shape)}")
        return int(input.shape[1] if input.ndim == n + 2 else input.shape[0])

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        in_channels = self._get_in_channels(input)
        if in_channels % self.groups != 0:
            raise ValueError(f"{type(self).__name__}: in_channels must be divisible by groups. "
                             f"Received: in_channels={in_channels} (from input "
                             f"{tuple(input.shape)}), groups={self.groups}")
        self.in_channels = in_channels
        g, k = self.groups, self.kernel_size
        if self.transposed:
            self.weight.materialize((in_channels, self.out_channels // g, *k))
        else:
            self.weight.materialize((self.out_channels, in_channels // g, *k))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


def _placeholder_channels(groups):
    """An in_channels that passes the eager constructor's checks (groups divides it), so that
    a bad groups is reported as such."""
    return groups if _is_int(groups) and groups > 0 else 1


class _LazyConv(_LazyConvXdMixin):
    """The convolutions' signature without in_channels."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(_placeholder_channels(groups), out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, device, dtype)


class _LazyConvTranspose(_LazyConvXdMixin):
    """The transposed convolutions' signature without in_channels."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(_placeholder_channels(groups), out_channels, kernel_size, stride,
                         padding, output_padding, groups, bias, dilation, padding_mode, device,
                         dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """Conv1d with in_channels inferred from the first input; becomes a Conv1d then."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """Conv2d with in_channels inferred from the first input; becomes a Conv2d then."""

    cls_to_become = Conv2d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """ConvTranspose1d with in_channels inferred from the first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """ConvTranspose2d with in_channels inferred from the first input."""

    cls_to_become = ConvTranspose2d
