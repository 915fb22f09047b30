"""Max, average and adaptive pooling layers (PyTorch's arguments, defaults and reprs).

Like PyTorch, the modules keep the arguments as given (AvgPool1d turns them into 1-tuples) and
print them that way; ember also checks them at construction, so a bad value fails early.
"""
from __future__ import annotations

from .. import functional as F
from ..module import Module
from .utils import _int_tuple, _is_int, _single


def _check_window(name, n, kernel_size, stride, padding, dilation=1):
    """Validates pooling hyper-parameters; padding may be at most half the effective kernel."""
    kernel = _int_tuple(name, "kernel_size", kernel_size, n)
    if stride is not None:
        _int_tuple(name, "stride", stride, n)
    pads = _int_tuple(name, "padding", padding, n, minimum=0)
    dilations = _int_tuple(name, "dilation", dilation, n)
    for k, p, d in zip(kernel, pads, dilations):
        if p > ((k - 1) * d + 1) // 2:
            raise ValueError(f"{name}: pad should be at most half of effective kernel size. "
                             f"Received: kernel_size={kernel_size!r}, padding={padding!r}, "
                             f"dilation={dilation!r}")


class _MaxPoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        _check_window(type(self).__name__, self._n, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _n = 1

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    _n = 2

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _check_window("AvgPool1d", 1, kernel_size, stride, padding)
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        _check_window("AvgPool2d", 2, kernel_size, stride, padding)
        if divisor_override is not None and (not _is_int(divisor_override)
                                             or divisor_override == 0):
            raise ValueError("AvgPool2d: divisor_override must be a non-zero integer or None. "
                             f"Received: divisor_override={divisor_override!r}")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


def _check_output_size(name, n, output_size):
    """output_size: a positive int, or n entries each a positive int or None (keep that size)."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if output_size is None or len(sizes) != n \
            or not all(s is None or (_is_int(s) and s >= 1) for s in sizes):
        raise ValueError(f"{name}: output_size must be a positive integer or a tuple of {n} "
                         f"positive integers or None. Received: output_size={output_size!r}")


class _AdaptiveAvgPoolNd(Module):
    _n = 0

    def __init__(self, output_size):
        super().__init__()
        _check_output_size(type(self).__name__, self._n, output_size)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _n = 1

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _n = 2

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    _n = 0

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _check_output_size(type(self).__name__, self._n, output_size)
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _n = 1

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _n = 2

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
