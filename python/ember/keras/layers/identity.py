"""keras.layers.Identity: returns its input (a placeholder layer); masks pass through."""
from __future__ import annotations

from .layer import Layer


class Identity(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
