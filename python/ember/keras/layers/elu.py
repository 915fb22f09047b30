"""keras.layers.ELU: x for x > 0, alpha * (exp(x) - 1) below."""
from __future__ import annotations

import numbers

from .. import activations
from .layer import Layer


class ELU(Layer):
    def __init__(self, alpha=1.0, **kwargs):
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"ELU: alpha must be a number. Received: alpha={alpha!r}")
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
