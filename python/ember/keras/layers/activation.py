"""keras.layers.Activation: applies an activation function by name or callable."""
from __future__ import annotations

from .. import activations
from .layer import Layer


class Activation(Layer):
    supports_masking = True  # (a mask passes through unchanged)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
