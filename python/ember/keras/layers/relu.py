"""keras.layers.ReLU: the rectifier with Keras' optional ceiling, slope and threshold.

    f(x) = max_value                      if x >= max_value
    f(x) = x                              if threshold < x < max_value
    f(x) = negative_slope * (x - threshold) otherwise

computed as keras.activations.relu does (so x == threshold gives 0, and a threshold above
max_value behaves as in Keras). With the defaults it is ember's relu kernel.
"""
from __future__ import annotations

import numbers

from .. import activations
from .layer import Layer


def _non_negative(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{name} of a ReLU layer cannot be a negative value. "
                         f"Received: {name}={value!r}")
    return float(value)


class ReLU(Layer):
    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        self.max_value = _non_negative("max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative("negative_slope", negative_slope)
        self.threshold = _non_negative("threshold", threshold)
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
