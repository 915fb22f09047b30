"""Argument checks and shape rules shared by the Keras convolution, pooling and padding layers
(Keras' ``standardize_tuple``/``standardize_data_format``/``standardize_padding`` and TF's
"same" padding)."""
from __future__ import annotations

import numbers

import ember
from .. import config


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def standardize_tuple(owner, name, value, n, allow_zero=False):
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints, each positive (or >= 0)."""
    if _is_int(value):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            out = None
        if out is None or len(out) != n or not all(_is_int(v) for v in out):
            raise ValueError(f"{owner}: {name} must be an integer or a tuple of {n} integers. "
                             f"Received: {name}={value!r}")
        out = tuple(int(v) for v in out)
    if any(v < 0 or (v == 0 and not allow_zero) for v in out):
        kind = "non-negative" if allow_zero else "positive"
        shown = out if n > 1 else out[0]
        raise ValueError(f"{owner}: {name} must be {kind} integers. Received: {name}={shown!r}")
    return out


def standardize_data_format(owner, data_format):
    """None means keras.config.image_data_format() ("channels_last" unless set)."""
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{owner}: data_format must be one of 'channels_last' or "
                         f"'channels_first'. Received: data_format={data_format!r}")
    return data_format


def standardize_padding(owner, padding, allow_causal=False):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{owner}: padding must be one of {', '.join(map(repr, allowed))}. "
                         f"Received: padding={padding!r}")
    return mode


def same_padding(size, kernel, stride, dilation=1):
    """TF's "same" padding of one spatial dim: output ceil(size / stride), the odd pixel after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def explicit_padding(mode, spatial, kernel, strides, dilation):
    """((before, after), ...) per spatial dim for Keras' padding mode."""
    pads = []
    for size, k, s, d in zip(spatial, kernel, strides, dilation):
        if mode == "same":
            pads.append(same_padding(size, k, s, d))
        elif mode == "causal":
            pads.append(((k - 1) * d, 0))
        else:
            pads.append((0, 0))
    return tuple(pads)


def output_length(size, kernel, stride, dilation, before, after):
    return (size + before + after - ((kernel - 1) * dilation + 1)) // stride + 1


def layout_text(rank, data_format):
    """e.g. "(batch, height, width, channels)" for a 2-D layer with channels_last."""
    spatial = {1: ["steps"], 2: ["height", "width"]}[rank]
    axes = spatial + ["channels"] if data_format == "channels_last" else ["channels"] + spatial
    return "(batch, " + ", ".join(axes) + ")"


def check_rank(layer, shape, rank, data_format=None):
    """Raises ShapeError unless ``shape`` is a batch of ``rank``-D feature maps."""
    expected = rank + 2
    if len(shape) != expected:
        fmt = data_format or "channels_last"
        raise ember.ShapeError(
            f'{type(layer).__name__} "{layer.name}": expected input of {expected} dimensions '
            f"{layout_text(rank, fmt)} with data_format={fmt!r}. Received: input of shape "
            f"{tuple(shape)}")


def channel_axis(data_format, ndim):
    return ndim - 1 if data_format == "channels_last" else 1


def spatial_shape(shape, data_format):
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def check_channels(layer, shape, rank, data_format, channels):
    """Raises ShapeError unless ``shape`` is a batch of ``rank``-D maps with ``channels``
    channels on the axis ``data_format`` names (with a hint when the layout looks swapped)."""
    check_rank(layer, shape, rank, data_format)
    axis = channel_axis(data_format, len(shape))
    if shape[axis] != channels:
        hint = "channels_first" if data_format == "channels_last" else "channels_last"
        raise ember.ShapeError(
            f'{type(layer).__name__} "{layer.name}" expects data_format={data_format!r} inputs '
            f"{layout_text(rank, data_format)} with {channels} channels on axis {axis}, but "
            f"received input of shape {tuple(shape)} ({shape[axis]} channels there). If the "
            f"data is {hint}, pass data_format={hint!r} or transpose it.")


def build_channels(layer, input_shape, rank, data_format):
    """The channel count of the first input, which must be a batch of ``rank``-D maps."""
    check_rank(layer, input_shape, rank, data_format)
    channels = input_shape[channel_axis(data_format, len(input_shape))]
    if channels is None:
        raise ValueError(f'{type(layer).__name__} "{layer.name}": the channel dimension of the '
                         f"input must be known. Received: input_shape={tuple(input_shape)}")
    return int(channels)


def padding_for(layer, shape):
    """The flat (before, after, ...) padding of a convolution ``layer`` (its kernel_size,
    strides, dilation_rate, padding, data_format) on input ``shape``; ShapeError when the
    kernel does not fit."""
    spatial = spatial_shape(shape, layer.data_format)
    pads = explicit_padding(layer.padding, spatial, layer.kernel_size, layer.strides,
                            layer.dilation_rate)
    out = [output_length(s, k, st, d, b, a) for s, k, st, d, (b, a) in
           zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate, pads)]
    if min(out) < 1:
        raise ember.ShapeError(
            f'{type(layer).__name__} "{layer.name}": the kernel {layer.kernel_size} (dilation '
            f"{layer.dilation_rate}) is larger than the input's spatial size {spatial} with "
            f"padding={layer.padding!r}. Received: input of shape {tuple(shape)}")
    return tuple(p for pair in pads for p in pair)


def conv_output_shape(layer, input_shape, channels):
    """Keras' output shape of a convolution ``layer`` with ``channels`` outputs (None sizes
    stay None)."""
    input_shape = tuple(input_shape)
    sizes = []
    for n, k, s, d in zip(spatial_shape(input_shape, layer.data_format), layer.kernel_size,
                          layer.strides, layer.dilation_rate):
        if n is None:
            sizes.append(None)
            continue
        (before, after), = explicit_padding(layer.padding, (n,), (k,), (s,), (d,))
        sizes.append(output_length(n, k, s, d, before, after))
    if any(s is not None and s < 1 for s in sizes):
        raise ValueError(f'{type(layer).__name__} "{layer.name}": computed output size would '
                         f"be negative or zero. Received: input_shape={input_shape}, "
                         f"kernel_size={layer.kernel_size}, dilation_rate="
                         f"{layer.dilation_rate}, padding={layer.padding!r}")
    if layer.data_format == "channels_last":
        return (input_shape[0],) + tuple(sizes) + (channels,)
    return (input_shape[0], channels) + tuple(sizes)
