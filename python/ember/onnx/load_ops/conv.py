"""Convolutions: Conv and ConvTranspose over 1-D and 2-D inputs, with groups, dilations,
strides, explicit (also asymmetric) pads, auto_pad and ConvTranspose's output_shape."""
from __future__ import annotations

from ..._core import ShapeError
from ...nn import functional as F
from .geometry import pad_pairs, read_window, spatial_rank
from .registry import register

_CONV = {1: F.conv1d, 2: F.conv2d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}


def _geometry(op: str, window, x, w) -> tuple:
    """(spatial rank, kernel, strides, dilations) of a convolution of x by w."""
    n = spatial_rank(x, op)
    kernel = _kernel(op, window, x, w)
    return (n, kernel, window.sizes(window.strides, n, "strides"),
            window.sizes(window.dilations, n, "dilations"))


def _kernel(op: str, window, x, w) -> list:
    if w.ndim != x.ndim:
        raise ShapeError(f"{op}: weight of shape {tuple(w.shape)} does not fit input of shape "
                         f"{tuple(x.shape)} (same rank expected)")
    kernel = list(w.shape[2:])
    if window.kernel is not None and list(window.kernel) != kernel:
        raise ShapeError(f"{op}: kernel_shape {window.kernel} does not match the weight's shape "
                         f"{tuple(w.shape)}")
    return kernel


@register("Conv", since=1)
def conv(node):
    window, group = read_window(node), node.int("group", 1)
    if group < 1:
        raise node.error(f"group must be positive, got {group}")

    def run(x, w, b=None):
        n, kernel, strides, dilations = _geometry("Conv", window, x, w)
        before, after = window.resolve(list(x.shape[2:]), kernel, strides, dilations)
        return _CONV[n](x, w, b, stride=tuple(strides), padding=pad_pairs(before, after),
                        dilation=tuple(dilations), groups=group)
    return run


@register("ConvTranspose", since=1)
def conv_transpose(node):
    window, group = read_window(node), node.int("group", 1)
    output_padding = node.ints("output_padding", None)
    output_shape = node.ints("output_shape", None)
    if group < 1:
        raise node.error(f"group must be positive, got {group}")
    if output_padding is not None and any(p < 0 for p in output_padding):
        raise node.error(f"output_padding must be non-negative, got {output_padding}")

    def run(x, w, b=None):
        n, kernel, strides, dilations = _geometry("ConvTranspose", window, x, w)
        extra = window.sizes(output_padding, n, "output_padding", default=0)
        full = [s * (i - 1) + e + (k - 1) * d + 1  # the output before any padding is removed
                for i, s, e, k, d in zip(x.shape[2:], strides, extra, kernel, dilations)]
        before, after = _transpose_pads(window, full, list(x.shape[2:]), strides, output_shape)
        if any(e >= max(s, d) for e, s, d in zip(extra, strides, dilations)):
            raise ValueError(f"output_padding {extra} must be less than max(stride, dilation) "
                             f"in each dimension (strides {strides}, dilations {dilations})")
        return _CONV_T[n](x, w, b, stride=tuple(strides), padding=pad_pairs(before, after),
                          output_padding=tuple(extra), groups=group, dilation=tuple(dilations))
    return run


def _transpose_pads(window, full, in_sizes, strides, output_shape) -> tuple:
    """(cropped before, cropped after) per spatial dimension. An output_shape, or auto_pad
    SAME_* (output = input * stride), fixes the total; split as the ONNX spec
    says: SAME_UPPER crops the odd cell at the end, otherwise at the start."""
    n = len(full)
    if output_shape is not None:
        targets = output_shape[-n:] if len(output_shape) in (n, n + 2) else None
        if targets is None:
            raise ValueError(f"output_shape {output_shape} must have one value per spatial "
                             f"dimension ({n})")
    elif window.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        targets = [i * s for i, s in zip(in_sizes, strides)]
    else:
        return window.resolve([0] * n, None, None, None)
    totals = [f - t for f, t in zip(full, targets)]
    if any(t < 0 for t in totals):
        raise ValueError(f"the requested output size {targets} is larger than the transposed "
                         f"convolution's whole output {full}")
    small, big = [t // 2 for t in totals], [t - t // 2 for t in totals]
    return (small, big) if window.auto_pad == "SAME_UPPER" else (big, small)
