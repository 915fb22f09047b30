"""ConvTranspose1d and ConvTranspose2d: PyTorch's transposed convolution layers (weight
(in, out/groups, *k)), with forward's output_size argument."""
from __future__ import annotations

from .. import functional as F
from .conv import _ConvNd
from .utils import _int_tuple, weight_and_bias


class _ConvTransposeNd(_ConvNd):
    """Shared constructor and output_size handling (PyTorch's _ConvTransposeNd)."""

    transposed = True
    _op = None  # F.conv_transpose1d or F.conv_transpose2d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name, n = type(self).__name__, self._n
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}. Received: '
                             f"padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an integer or a tuple of {n} integers; "
                             f"string padding ({padding!r}) is not defined for transposed "
                             "convolutions")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        output_padding = _int_tuple(name, "output_padding", output_padding, n, minimum=0)
        if any(o >= s and o >= d for o, s, d in zip(output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding must be smaller than either stride or "
                             f"dilation. Received: output_padding={output_padding}, "
                             f"stride={self.stride}, dilation={self.dilation}")
        self.output_padding = output_padding

    def forward(self, input, output_size=None):
        weight, bias = weight_and_bias(self)
        return self._op(input, weight, bias, self.stride, self.padding,
                        self._output_padding(input, output_size), self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        """output_padding that makes the output output_size (the spatial sizes, optionally
        preceded by batch and channel sizes), as PyTorch's; self.output_padding without it."""
        if output_size is None:
            return self.output_padding
        n, name = self._n, type(self).__name__
        output_size = [int(s) for s in output_size]
        non_spatial = 2 if input.ndim == n + 2 else 1  # (batch,) channels
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"{name}: for {input.ndim}D input, output_size must have {n} or "
                             f"{non_spatial + n} elements (got {len(output_size)})")
        result = []
        for d in range(n):
            size = input.shape[input.ndim - n + d]
            smallest = ((size - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{name}: requested an output size of {output_size}, but valid "
                                 f"sizes range from {smallest} to {largest} (for an input of "
                                 f"{tuple(input.shape)[-n:]})")
            result.append(output_size[d] - smallest)
        return tuple(result)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L) input."""

    _n = 1
    _op = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) input."""

    _n = 2
    _op = staticmethod(F.conv_transpose2d)
