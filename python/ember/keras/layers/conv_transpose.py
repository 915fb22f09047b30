"""keras.layers.Conv1DTranspose and Conv2DTranspose on F.conv_transpose1d / F.conv_transpose2d.

The kernel is kept in Keras' layout (*kernel_size, filters, in_channels), as ``add_weight``
makes it, so get_weights/set_weights, regularizers and constraints all see what Keras shows;
each call permutes it to F's (in_channels, filters, *kernel_size). Output sizes and the window
follow Keras 3 (the TF/JAX rule its torch backend also reproduces): a full transposed
convolution, cropped by (k - 1 - left_pad, k - 1 - right_pad) per axis, where a negative crop
adds zeros (then the bias) on that side.
"""
from __future__ import annotations

from ...nn import functional as F
from .. import activations, initializers
from . import conv_utils as U
from .layer import Layer
from .weight_args import check_filters, optional_config, with_activity_regularizer


def keras_pads(kernel, stride, dilation, padding, output_padding):
    """(left_pad, right_pad) of the dilated input for one axis, as Keras computes them."""
    k = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    if output_padding is None:
        total = stride + k - 2
    else:
        total = k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


def output_size(size, kernel, stride, dilation, padding, output_padding):
    """Keras' output length of one axis (None stays None)."""
    if size is None:
        return None
    left, right = keras_pads(kernel, stride, dilation, padding, output_padding)
    return (size - 1) * stride + left + right - (kernel - 1) * dilation + 1


class _ConvTranspose(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        owner, n = type(self).__name__, self.rank
        check_filters(owner, filters)
        self.kernel_size = U.standardize_tuple(owner, "kernel_size", kernel_size, n)
        self.strides = U.standardize_tuple(owner, "strides", strides, n)
        self.dilation_rate = U.standardize_tuple(owner, "dilation_rate", dilation_rate, n)
        self.padding = U.standardize_padding(owner, padding)
        self.output_padding = None if output_padding is None else U.standardize_tuple(
            owner, "output_padding", output_padding, n, allow_zero=True)
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{owner}: output_padding must be strictly less than strides in "
                             f"every dimension. Received: output_padding={self.output_padding}, "
                             f"strides={self.strides}")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides > 1 not supported in conjunction with "
                             f"dilation_rate > 1. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**with_activity_regularizer(activity_regularizer, kwargs))
        self.filters = int(filters)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_channels = None

    def build(self, input_shape):
        self.input_channels = U.build_channels(self, input_shape, self.rank, self.data_format)
        self.kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, self.input_channels), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.bias = self.add_weight(
            shape=(self.filters,), name="bias", initializer=self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def _crops(self):
        """((before, after), ...) to cut from the full transposed convolution; < 0 adds."""
        crops = []
        for i, k in enumerate(self.kernel_size):
            left, right = keras_pads(k, self.strides[i], self.dilation_rate[i], self.padding,
                                     None if self.output_padding is None
                                     else self.output_padding[i])
            span = (k - 1) * self.dilation_rate[i]
            crops.append((span - left, span - right))
        return crops

    def call(self, inputs):
        shape = tuple(inputs.shape)
        U.check_channels(self, shape, self.rank, self.data_format, self.input_channels)
        crops = self._crops()
        weight = self.kernel.permute(self.rank + 1, self.rank, *range(self.rank))
        cut = tuple(max(c, 0) for pair in crops for c in pair)
        extend = [max(-c, 0) for pair in crops for c in pair]
        channels_last = self.data_format == "channels_last"
        late_bias = self.bias is not None and any(extend)  # zeros added get the bias too
        conv = F.conv_transpose2d if self.rank == 2 else F.conv_transpose1d
        out = conv(inputs, weight, None if late_bias else self.bias, stride=self.strides,
                   padding=cut, dilation=self.dilation_rate, channels_last=channels_last)
        if any(extend):
            pad = []  # F.pad lists the last axis first
            for i in reversed(range(self.rank)):
                pad += extend[2 * i:2 * i + 2]
            out = F.pad(out, ([0, 0] if channels_last else []) + pad)
        if late_bias:
            out = out + (self.bias if channels_last else
                         self.bias.reshape(self.filters, *([1] * self.rank)))
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        sizes = tuple(output_size(s, k, st, d, self.padding,
                                  None if self.output_padding is None else self.output_padding[i])
                      for i, (s, k, st, d) in enumerate(zip(
                          U.spatial_shape(input_shape, self.data_format), self.kernel_size,
                          self.strides, self.dilation_rate)))
        if self.data_format == "channels_last":
            return (input_shape[0],) + sizes + (self.filters,)
        return (input_shape[0], self.filters) + sizes

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **optional_config(self, "kernel_regularizer", "bias_regularizer",
                                  "activity_regularizer", "kernel_constraint",
                                  "bias_constraint")}


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over (batch, steps, channels) inputs."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution over (batch, height, width, channels) inputs."""

    rank = 2
