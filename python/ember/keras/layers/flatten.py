"""keras.layers.Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...).

With data_format="channels_first", (batch, channels, *spatial) inputs are first put in
channels_last order, so the flattened features line up as Keras orders them."""
from __future__ import annotations

import numpy as np

from . import conv_utils as U
from .layer import Layer


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        self.data_format = U.standardize_data_format("Flatten", data_format)
        super().__init__(**kwargs)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
