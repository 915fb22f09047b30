"""keras.layers.Dense: a configured ember Linear (weight stored (out, in) as in PyTorch)."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ...nn import functional as F
from ...nn.modules.utils import weight_and_bias
from ...ops.linalg import linear_activation
from .. import activations, constraints, initializers, regularizers
from .layer import Layer, weight_options_config

# Activations that run fused with the product (ops.linalg.linear_activation), by name.
_FUSED_ACTIVATIONS = {activations.relu: "relu", activations.sigmoid: "sigmoid",
                      activations.tanh: "tanh", activations.linear: "linear"}


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis.

    The weight is the ember Parameter ``weight`` of PyTorch Linear layout (units, input_dim), so
    the math is ``ember.nn.functional.linear``; ``get_weights()``/``set_weights()`` use Keras'
    layouts: kernel (input_dim, units) then bias (units,).
    """

    supports_masking = True  # (a mask passes through unchanged)

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        if (isinstance(units, bool) or not isinstance(units, numbers.Integral)
                or units <= 0):
            raise ValueError("Dense: units must be a positive integer. "
                             f"Received: units={units!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_dim = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None or len(input_shape) < 2:
            raise ValueError(f'Dense "{self.name}": the last axis of the input must be known and '
                             f"the input must have a batch axis. Received: "
                             f"input_shape={tuple(input_shape)}")
        self.input_dim = int(input_dim)
        self._add_weight("weight", (self.input_dim, self.units), self.kernel_initializer,
                         regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                         name="kernel")
        if self.use_bias:
            self._add_weight("bias", (self.units,), self.bias_initializer,
                             regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                             name="bias")
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        shape = inputs._array.shape
        if shape[-1] != self.input_dim:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected axis -1 of input shape to have value {self.input_dim}, "
                             f"but received input with shape {tuple(inputs.shape)}")
        weight, bias = weight_and_bias(self)
        fused = _FUSED_ACTIVATIONS.get(self.activation)
        if fused is not None and len(shape) == 2:  # one node, as nn.Sequential fuses them
            return linear_activation(inputs, weight, bias, fused)
        return self.activation(F.linear(inputs, weight, bias))

    def _to_keras_layout(self, attr_name, array):
        return array.T if attr_name == "weight" else array

    def _from_keras_layout(self, attr_name, array):
        return array.T if attr_name == "weight" else array

    def _keras_view(self, attr_name, param):
        return param.T if attr_name == "weight" else param

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                **weight_options_config(self, "kernel", "bias")}



def _as_numpy(values) -> np.ndarray:
    return values.numpy() if isinstance(values, ember.Tensor) else np.asarray(values)
