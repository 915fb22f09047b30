"""keras.layers.Conv1D and Conv2D: configured ember convolutions (F.conv1d / F.conv2d).

The kernel is the ember Parameter ``weight`` in PyTorch layout (filters, in/groups, *kernel) so
the math is ember.nn.functional's; ``get_weights()``/``set_weights()`` use Keras' layout
(*kernel, in/groups, filters) then bias (filters,). Inputs are channels_last by default; with
data_format="channels_first" the layer runs F on NCHW / NCL directly.
"""
from __future__ import annotations


import ember
from ...nn import functional as F
from ...ops.conv import Conv2d as ConvOp
from .. import activations, constraints, initializers, regularizers
from . import conv_utils as U
from .layer import Layer, weight_options_config


class _Conv(Layer):
    """N-D convolution (N = ``rank``) with Keras' arguments, defaults and "same" rule."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        owner = type(self).__name__
        if not U._is_int(filters) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive integer. "
                             f"Received: filters={filters!r}")
        if not U._is_int(groups) or groups <= 0:
            raise ValueError(f"{owner}: groups must be a positive integer. "
                             f"Received: groups={groups!r}")
        if filters % groups:
            raise ValueError(f"{owner}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={groups}, filters={filters}")
        n = self.rank
        self.kernel_size = U.standardize_tuple(owner, "kernel_size", kernel_size, n)
        self.strides = U.standardize_tuple(owner, "strides", strides, n)
        self.dilation_rate = U.standardize_tuple(owner, "dilation_rate", dilation_rate, n)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides > 1 not supported in conjunction with "
                             f"dilation_rate > 1. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = U.standardize_padding(owner, padding, allow_causal=(n == 1))
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        self.groups = int(groups)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_channels = None

    # ---- weights -----------------------------------------------------------------------------
    def build(self, input_shape):
        channels = U.build_channels(self, input_shape, self.rank, self.data_format)
        if channels % self.groups:
            raise ValueError(f'{type(self).__name__} "{self.name}": the number of input '
                             "channels must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, but the input has {channels} "
                             f"channels (full input shape is {tuple(input_shape)}, "
                             f"data_format={self.data_format!r})")
        self.input_channels = int(channels)
        keras_shape = self.kernel_size + (self.input_channels // self.groups, self.filters)
        self._add_weight("weight", keras_shape, self.kernel_initializer,  # Keras' fans
                         regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                         name="kernel")
        if self.use_bias:
            self._add_weight("bias", (self.filters,), self.bias_initializer,
                             regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                             name="bias")
        else:
            self.bias = None
        self.built = True

    def _to_keras_layout(self, attr_name, array):
        # (out, in, *k) -> (*k, in, out)
        if attr_name != "weight":
            return array
        return array.transpose(tuple(range(2, self.rank + 2)) + (1, 0))

    def _from_keras_layout(self, attr_name, array):
        # (*k, in, out) -> (out, in, *k)
        if attr_name != "weight":
            return array
        return array.transpose((self.rank + 1, self.rank) + tuple(range(self.rank)))

    def _keras_view(self, attr_name, param):
        if attr_name != "weight":
            return param
        return param.permute(*(tuple(range(2, self.rank + 2)) + (1, 0)))

    # ---- call --------------------------------------------------------------------------------
    def _check_input(self, shape):
        U.check_channels(self, shape, self.rank, self.data_format, self.input_channels)

    def _padding_for(self, shape):
        return U.padding_for(self, shape)

    def call(self, inputs):
        fuse_relu = self.activation is activations.relu  # computed in the convolution's pass
        if self.rank == 2:
            out = self._conv2d(inputs, fuse_relu)
        else:
            shape = tuple(inputs.shape)
            self._check_input(shape)
            out = F.conv1d(inputs, self.weight, self.bias, stride=self.strides,
                           padding=self._padding_for(shape), dilation=self.dilation_rate,
                           groups=self.groups, channels_last=self.data_format == "channels_last",
                           fuse_relu=fuse_relu)
        return out if fuse_relu else self.activation(out)

    def _conv2d(self, inputs, relu):
        """F.conv2d's op with the checks and geometry worked out once per input shape: at
        batch 1 they cost as much as the kernels of a small layer."""
        shape = inputs._array.shape
        cached = self.__dict__.get("_geometry")  # (a plain attribute: no Module.__setattr__)
        if cached is None or cached[0] != shape:
            self._check_input(tuple(shape))
            geometry = (self.strides, self._padding_for(tuple(shape)), self.dilation_rate,
                        self.groups, self.data_format == "channels_last")
            self.__dict__["_geometry"] = cached = (shape, geometry)
        if ember.autograd._state.enabled:
            return ConvOp.apply(inputs, self.weight, self.bias, geometry=cached[1], relu=relu)
        return ConvOp.infer(inputs, self.weight, self.bias, cached[1], relu)

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **weight_options_config(self, "kernel", "bias")}



class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) inputs (padding also "causal")."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) inputs."""

    rank = 2

