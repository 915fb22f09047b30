"""keras.layers.SeparableConv1D/2D: a depthwise convolution, then a 1x1 (pointwise) one mixing
the channels into ``filters`` (Keras' ops.separable_conv), with the bias and activation last.

Weights, in Keras' layouts and order: depthwise_kernel (*kernel_size, in, depth_multiplier),
pointwise_kernel (1, [1,] in * depth_multiplier, filters), bias (filters,).
"""
from __future__ import annotations

from ...nn import functional as F
from .. import activations, initializers
from . import conv_utils as U
from .depthwise_conv import DepthwiseBase
from .weight_args import check_filters, optional_config


class _SeparableConv(DepthwiseBase):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        check_filters(type(self).__name__, filters)
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        self.filters = int(filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = pointwise_regularizer
        self.pointwise_constraint = pointwise_constraint

    def build(self, input_shape):
        self.depthwise_kernel = self._add_depthwise_kernel(input_shape, "depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self.rank + (self.input_channels * self.depth_multiplier, self.filters),
            name="pointwise_kernel", initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        depthwise = self._depthwise(inputs, self.depthwise_kernel, None)
        # (1, [1,] in, filters) -> (filters, in, 1[, 1])
        weight = self.pointwise_kernel.permute(self.rank + 1, self.rank, *range(self.rank))
        conv = F.conv2d if self.rank == 2 else F.conv1d
        fuse_relu = self.activation is activations.relu  # in the convolution's own pass
        out = conv(depthwise, weight, self.bias,
                   channels_last=self.data_format == "channels_last", fuse_relu=fuse_relu)
        return out if fuse_relu else self.activation(out)

    def compute_output_shape(self, input_shape):
        return U.conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters,
                       "pointwise_initializer": initializers.serialize(
                           self.pointwise_initializer),
                       **optional_config(self, "pointwise_regularizer", "pointwise_constraint")})
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1-D convolution over (batch, steps, channels) inputs."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2-D convolution over (batch, height, width, channels) inputs."""

    rank = 2
