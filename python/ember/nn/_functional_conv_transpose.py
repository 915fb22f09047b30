"""F.conv_transpose1d and F.conv_transpose2d (PyTorch semantics, plus channels_last)."""
from __future__ import annotations

import numbers

from .. import _core
from .._bounds import check_alloc, check_int64
from ..ops.conv_transpose import ConvTranspose2d
from ..tensor import Tensor
from ._functional_conv import _int_tuple


def _pads(op, padding, n):
    """padding as ((before, after), ...): an int or n ints as PyTorch takes them; also
    (before, after) per dimension (2n ints), an ember extension for Keras' 'same'."""
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints; string padding "
                        f"({padding!r}) is not defined for transposed convolutions")
    if not isinstance(padding, numbers.Integral) and len(padding) == 2 * n:
        flat = _int_tuple(op, "padding", padding, 2 * n)
        pads = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))
    else:
        pads = tuple((p, p) for p in _int_tuple(op, "padding", padding, n))
    if any(p < 0 for pair in pads for p in pair):
        raise ValueError(f"{op}: padding must be non-negative. Received: padding={padding!r}")
    return pads


def _check(op, input, weight, bias, groups, n, channels_last):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be ember tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    shapes = f"input {tuple(input.shape)}, weight {tuple(weight.shape)}"
    if input.dtype != weight.dtype or not input.is_floating_point():
        raise TypeError(f"{op}: input and weight must have the same floating dtype (float32 or "
                        f"float64), got {input.dtype} and {weight.dtype}; {shapes}")
    if input.ndim not in (n + 1, n + 2):
        raise _core.ShapeError(f"{op}: expected {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                               f"input, got shape {tuple(input.shape)}")
    if weight.ndim != n + 2:
        raise _core.ShapeError(f"{op}: expected a {n + 2}-D weight (in_channels, "
                               f"out_channels/groups, *kernel_size), got shape "
                               f"{tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer. Received: groups={groups!r}")
    channels = input.shape[-1] if channels_last else input.shape[-n - 1]
    if weight.shape[0] != channels:
        raise _core.ShapeError(f"{op}: input has {channels} channels but weight expects "
                               f"{weight.shape[0]} (weight's first dimension); {shapes}")
    if channels % groups:
        raise _core.ShapeError(f"{op}: in_channels ({channels}) must be divisible by groups "
                               f"({groups}); {shapes}")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}: bias must be an ember tensor or None, got "
                            f"{type(bias).__name__}")
        if tuple(bias.shape) != (weight.shape[1] * groups,):
            raise _core.ShapeError(f"{op}: bias must have shape ({weight.shape[1] * groups},) "
                                   f"(out_channels), got {tuple(bias.shape)}; {shapes}")
        if bias.dtype != input.dtype:
            raise TypeError(f"{op}: bias has dtype {bias.dtype} but input has {input.dtype}")


def output_sizes(op, in_sizes, kernel, stride, pads, dilation, output_padding):
    """Each spatial output size: (in - 1) * stride - pads + dilation * (k - 1) + output_padding
    + 1, with PyTorch's checks."""
    sizes = []
    for i, k, s, (pb, pa), d, o in zip(in_sizes, kernel, stride, pads, dilation, output_padding):
        if o < 0:
            raise ValueError(f"{op}: output_padding must be non-negative, got "
                             f"{tuple(output_padding)}")
        if o >= s and o >= d:
            raise ValueError(f"{op}: output_padding must be smaller than either stride or "
                             f"dilation, got output_padding={tuple(output_padding)}, "
                             f"stride={tuple(stride)}, dilation={tuple(dilation)}")
        size = (i - 1) * s - pb - pa + d * (k - 1) + o + 1
        if size <= 0:
            raise _core.ShapeError(f"{op}: input sizes {tuple(in_sizes)} give a non-positive "
                                   f"output size {size}; padding {tuple(pads)} is too large")
        sizes.append(size)
    check_int64(op, "the output size", sizes)
    return tuple(sizes)


def _hyper(op, stride, dilation, output_padding, n):
    stride = _int_tuple(op, "stride", stride, n)
    dilation = _int_tuple(op, "dilation", dilation, n)
    output_padding = _int_tuple(op, "output_padding", output_padding, n)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive. Received: "
                         f"stride={stride}, dilation={dilation}")
    return stride, dilation, output_padding


def _transposed_4d(op, x, weight, bias, stride, pads, output_padding, groups, dilation,
                   channels_last):
    """The op on batched 4-D input, arguments already checked and expanded."""
    n, c_out = x.shape[0], weight.shape[1] * groups
    in_hw = tuple(x.shape[1:3]) if channels_last else tuple(x.shape[2:])
    h, w = output_sizes(op, in_hw, weight.shape[2:], stride, pads, dilation, output_padding)
    shape = (n, h, w, c_out) if channels_last else (n, c_out, h, w)
    check_alloc(op, shape, x._array.dtype.itemsize)
    (pt, pb), (pl, pr) = pads
    geometry = (stride, (pt, pb, pl, pr), dilation, groups, channels_last)
    return ConvTranspose2d.apply(x, weight, bias, geometry=geometry, output_shape=shape)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, channels_last=False):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) input (or (N, H, W, C_in)
    with channels_last, an ember extension) by a (C_in, C_out/groups, kH, kW) weight. padding
    may also be (top, bottom, left, right)."""
    op = "conv_transpose2d"
    _check(op, input, weight, bias, groups, 2, channels_last)
    stride, dilation, output_padding = _hyper(op, stride, dilation, output_padding, 2)
    pads = _pads(op, padding, 2)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = _transposed_4d(op, x, weight, bias, stride, pads, output_padding, groups, dilation,
                         channels_last)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, channels_last=False):
    """1-D transposed convolution of (N, C_in, L) input (or (N, L, C_in) with channels_last)
    by a (C_in, C_out/groups, K) weight; padding may also be (left, right)."""
    op = "conv_transpose1d"
    _check(op, input, weight, bias, groups, 1, channels_last)
    stride, dilation, output_padding = _hyper(op, stride, dilation, output_padding, 1)
    pads = _pads(op, padding, 1)
    length = input.shape[-2] if channels_last else input.shape[-1]
    output_sizes(op, (length,), weight.shape[2:], stride, pads, dilation, output_padding)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    x4 = x.unsqueeze(1) if channels_last else x.unsqueeze(2)  # height 1
    out = _transposed_4d(op, x4, weight.unsqueeze(2), bias, (1,) + stride, ((0, 0),) + pads,
                         (0,) + output_padding, groups, (1,) + dilation, channels_last)
    out = out.squeeze(1) if channels_last else out.squeeze(2)
    return out.squeeze(0) if unbatched else out
