"""keras.layers.Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""
from __future__ import annotations

import numpy as np

from .layer import Layer


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"Flatten: data_format={data_format!r} is not supported; "
                                      "ember Keras layers are channels_last")
        super().__init__(**kwargs)

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}
