"""keras.layers.LeakyReLU: x for x >= 0, negative_slope * x below (Keras 3's default slope is
0.3; keras.activations.leaky_relu's is 0.2, PyTorch's 0.01)."""
from __future__ import annotations

import numbers
import warnings

from .. import activations
from .layer import Layer


class LeakyReLU(Layer):
    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # the Keras 2 name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        if (isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real)
                or negative_slope < 0):
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope!r}")
        super().__init__(**kwargs)
        self.negative_slope = negative_slope
        self.supports_masking = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}
