"""keras.layers.DepthwiseConv1D/2D: each input channel convolved with its own
``depth_multiplier`` filters, as F.conv1d / F.conv2d with groups = in_channels.

The kernel is kept in Keras' layout (*kernel_size, in_channels, depth_multiplier) through
``add_weight``; each call reshapes it to F's (in_channels * depth_multiplier, 1, *kernel_size),
whose output channel c * depth_multiplier + m is Keras' too. ``DepthwiseBase`` holds what the
separable convolutions share (arguments, the depthwise kernel, the depthwise pass).
"""
from __future__ import annotations

from ...nn import functional as F
from .. import activations, initializers
from . import conv_utils as U
from .layer import Layer
from .weight_args import optional_config, with_activity_regularizer


class DepthwiseBase(Layer):
    rank = 2

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        owner, n = type(self).__name__, self.rank
        if not U._is_int(depth_multiplier) or depth_multiplier <= 0:
            raise ValueError(f"{owner}: depth_multiplier must be a positive integer. "
                             f"Received: depth_multiplier={depth_multiplier!r}")
        self.kernel_size = U.standardize_tuple(owner, "kernel_size", kernel_size, n)
        self.strides = U.standardize_tuple(owner, "strides", strides, n)
        self.dilation_rate = U.standardize_tuple(owner, "dilation_rate", dilation_rate, n)
        self.padding = U.standardize_padding(owner, padding)
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**with_activity_regularizer(activity_regularizer, kwargs))
        self.depth_multiplier = int(depth_multiplier)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer, self.bias_regularizer = depthwise_regularizer, bias_regularizer
        self.depthwise_constraint, self.bias_constraint = depthwise_constraint, bias_constraint
        self.input_channels = None

    def _add_depthwise_kernel(self, input_shape, name):
        self.input_channels = U.build_channels(self, input_shape, self.rank, self.data_format)
        U.conv_output_shape(self, input_shape, 1)  # rejects a kernel larger than the input
        return self.add_weight(
            shape=self.kernel_size + (self.input_channels, self.depth_multiplier), name=name,
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def _add_bias(self, size):
        return self.add_weight(shape=(size,), name="bias", initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint) if self.use_bias else None

    def _depthwise(self, inputs, kernel, bias, fuse_relu=False):
        """The depthwise convolution of ``inputs`` by a Keras-layout ``kernel``."""
        shape = tuple(inputs.shape)
        U.check_channels(self, shape, self.rank, self.data_format, self.input_channels)
        channels = self.input_channels * self.depth_multiplier
        weight = kernel.reshape(*self.kernel_size, channels)
        weight = weight.permute(self.rank, *range(self.rank)).unsqueeze(1)
        conv = F.conv2d if self.rank == 2 else F.conv1d
        channels_last = self.data_format == "channels_last"
        # ember's grouped kernels are 1.5-5x faster on channels_first data than on
        # channels_last (measured at batch 8-32, 28x28-56x56, 64-128 channels, fwd+bwd), more
        # than the two transposes cost.
        x = inputs.permute(0, self.rank + 1, *range(1, self.rank + 1)) if channels_last \
            else inputs
        out = conv(x, weight, bias, stride=self.strides, padding=U.padding_for(self, shape),
                   dilation=self.dilation_rate, groups=self.input_channels, fuse_relu=fuse_relu)
        return out.permute(0, *range(2, self.rank + 2), 1) if channels_last else out

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **optional_config(self, "depthwise_regularizer", "bias_regularizer",
                                  "activity_regularizer", "depthwise_constraint",
                                  "bias_constraint")}


class _DepthwiseConv(DepthwiseBase):
    def build(self, input_shape):
        self.kernel = self._add_depthwise_kernel(input_shape, "kernel")
        self.bias = self._add_bias(self.input_channels * self.depth_multiplier)
        self.built = True

    def call(self, inputs):
        fuse_relu = self.activation is activations.relu  # in the convolution's own pass
        out = self._depthwise(inputs, self.kernel, self.bias, fuse_relu)
        return out if fuse_relu else self.activation(out)

    def compute_output_shape(self, input_shape):
        channels = input_shape[U.channel_axis(self.data_format, len(input_shape))]
        return U.conv_output_shape(self, input_shape, None if channels is None
                                   else channels * self.depth_multiplier)


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels) inputs."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution over (batch, height, width, channels) inputs."""

    rank = 2
