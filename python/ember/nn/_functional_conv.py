"""F.conv1d, F.conv2d and F.pad (PyTorch semantics, plus channels_last for the Keras face)."""
from __future__ import annotations

import numbers

from .. import _core, autograd
from .._bounds import INT64_MAX, check_alloc, check_int64
from ..ops.conv import Conv2d
from ..ops.pad import ConstantPad, IndexPad
from ..tensor import Tensor


def _int_tuple(op, name, value, n):
    """An int or a length-n sequence of ints as a tuple of n ints."""
    # Exact types first: the common case on every layer call, cheaply (bool is not int here).
    if type(value) is int and -INT64_MAX <= value <= INT64_MAX:
        return (value,) * n
    if type(value) is tuple and len(value) == n:
        for v in value:
            if type(v) is not int or not -INT64_MAX <= v <= INT64_MAX:
                break
        else:
            return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        check_int64(op, name, int(value))
        return (int(value),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    # Integers only (2.5 must not become 2), and bool is not one here.
    out = tuple(int(v) for v in items if isinstance(v, numbers.Integral) and not isinstance(v, bool))
    if len(out) != n or len(items) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints. Received: "
                         f"{name}={value!r}")
    check_int64(op, name, out)  # the kernels compute in int64: a larger int cannot reach them
    return out


def conv_padding(op, padding, kernel, dilation, stride):
    """Padding per spatial dim as ((before, after), ...): int, per-dim ints, 'valid', 'same'
    (PyTorch's: stride 1, the extra pixel after), or explicit (before, after) pairs."""
    n = len(kernel)
    if type(padding) is int and 0 <= padding <= INT64_MAX:  # the common cases first: an int
        return ((padding, padding),) * n
    if type(padding) is tuple and len(padding) == n:
        pads = _int_tuple(op, "padding", padding, n)
        if min(pads) >= 0:
            return tuple([(p, p) for p in pads])
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple. "
                             f"Received: padding={padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    if not isinstance(padding, numbers.Integral) and len(padding) == 2 * n and n > 1:
        flat = _int_tuple(op, "padding", padding, 2 * n)
        pads = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))
    elif n == 1 and not isinstance(padding, numbers.Integral) and len(padding) == 2:
        pads = (tuple(_int_tuple(op, "padding", padding, 2)),)
    else:
        pads = tuple((p, p) for p in _int_tuple(op, "padding", padding, n))
    if any(p < 0 for pair in pads for p in pair):
        raise ValueError(f"{op}: padding must be non-negative. Received: padding={padding!r}")
    return pads


def _check_input(op, input, weight, ndim):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be ember tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input._array.ndim not in (ndim - 1, ndim):
        raise _core.ShapeError(f"{op}: expected {ndim - 1}-D (unbatched) or {ndim}-D (batched) "
                               f"input, got shape {tuple(input.shape)}")
    if weight._array.ndim != ndim:
        raise _core.ShapeError(f"{op}: expected a {ndim}-D weight, got shape {tuple(weight.shape)}")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           channels_last=False, fuse_relu=False):
    """2-D convolution of (N, C, H, W) input (or (N, H, W, C) with channels_last, an ember
    extension) by a (out, in/groups, kH, kW) weight. padding may also be (top, bottom, left,
    right). fuse_relu (ember extension) returns F.relu of the result, computed in the
    convolution's own pass."""
    op = "conv2d"
    _check_input(op, input, weight, 4)
    stride = _int_tuple(op, "stride", stride, 2)
    dilation = _int_tuple(op, "dilation", dilation, 2)
    (pt, pb), (pl, pr) = conv_padding(op, padding, weight._array.shape[2:], dilation, stride)
    unbatched = input._array.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    check_int64(op, "groups", int(groups))
    geometry = (stride, (pt, pb, pl, pr), dilation, int(groups), channels_last)
    relu = bool(fuse_relu)
    if autograd._state.enabled:
        out = Conv2d.apply(x, weight, bias, geometry=geometry, relu=relu)
    else:
        out = Conv2d.infer(x, weight, bias, geometry, relu)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           channels_last=False, fuse_relu=False):
    """1-D convolution of (N, C, L) input (or (N, L, C) with channels_last) by a
    (out, in/groups, K) weight; padding may also be (left, right). fuse_relu as in conv2d."""
    op = "conv1d"
    _check_input(op, input, weight, 3)
    (stride,) = _int_tuple(op, "stride", stride, 1)
    (dilation,) = _int_tuple(op, "dilation", dilation, 1)
    ((pl, pr),) = conv_padding(op, padding, (weight.shape[2],), (dilation,), (stride,))
    check_int64(op, "groups", int(groups))
    _check_conv1d(input, weight, groups, pl + pr, dilation, channels_last)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    x4 = x.unsqueeze(1) if channels_last else x.unsqueeze(2)  # height 1
    geometry = ((1, stride), (0, 0, pl, pr), (1, dilation), int(groups), channels_last)
    out = Conv2d.apply(x4, weight.unsqueeze(2), bias, geometry=geometry, relu=bool(fuse_relu))
    out = out.squeeze(1) if channels_last else out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def _check_conv1d(input, weight, groups, total_pad, dilation, channels_last):
    """The checks the 2-D kernel would make, worded for the 1-D shapes the user passed."""
    shapes = f"input {tuple(input.shape)}, weight {tuple(weight.shape)}"
    channels = input.shape[-1] if channels_last else input.shape[-2]
    if groups < 1 or weight.shape[0] % groups or channels % groups:
        raise _core.ShapeError(f"conv1d: in_channels ({channels}) and out_channels "
                               f"({weight.shape[0]}) must be divisible by groups ({groups}); "
                               f"{shapes}")
    if weight.shape[1] * groups != channels:
        raise _core.ShapeError(f"conv1d: input has {channels} channels but weight expects "
                               f"{weight.shape[1] * groups} (groups={groups}); {shapes}")
    span = dilation * (weight.shape[2] - 1) + 1
    length = input.shape[-2] if channels_last else input.shape[-1]
    if length + total_pad < span:
        raise _core.ShapeError(f"conv1d: kernel size {span} (dilated) is larger than the padded "
                               f"input length {length + total_pad}; {shapes}")


def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dimensions; pad = (last_before, last_after, prev_before, ...)."""
    pad = tuple(int(p) for p in pad)
    check_int64("pad", "pad", pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most twice the input's "
                         f"{input.ndim} dimensions, got {len(pad)}")
    pairs = tuple(reversed([(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]))
    dims = input.shape[input.ndim - len(pairs):]
    padded = [n + b + a for n, (b, a) in zip(dims, pairs)]
    if min(padded, default=0) < 0:
        raise ValueError(f"pad: padding {pad} gives a negative size {padded} for input shape "
                         f"{tuple(input.shape)}")
    check_alloc("pad", tuple(input.shape[:input.ndim - len(pairs)]) + tuple(padded),
                input._array.dtype.itemsize)
    if mode == "constant":
        return ConstantPad.apply(input, pads=pairs, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use 'constant', "
                                  "'reflect', 'replicate' or 'circular'")
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: value is only used with mode='constant', got mode={mode!r}")
    dims = input.shape[input.ndim - len(pairs):]
    for n, (b, a) in zip(dims, pairs):
        if b < 0 or a < 0:
            raise ValueError(f"pad: {mode} padding must be non-negative, got {pad}")
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and (b > limit or a > limit):
            raise ValueError(f"pad: {mode} padding {pad} is too large for input shape "
                             f"{tuple(input.shape)} (at most {limit} per side)")
    return IndexPad.apply(input, pads=pairs, mode=mode)
