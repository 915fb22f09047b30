"""keras.layers.Rescaling: ``inputs * scale + offset`` in float32, in training and inference."""
from __future__ import annotations

import numpy as np

import ember
from ..layer import Layer
from .image_utils import float_input, is_number


def _as_constant(owner, name, value):
    """A number or an array of numbers (e.g. one per channel) as a float32 array."""
    array = np.asarray(value.numpy() if isinstance(value, ember.Tensor) else value)
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b":
        raise ValueError(f"{owner}: {name} must be a number or an array of numbers. "
                         f"Received: {name}={value!r}")
    return array.astype(np.float32)


def _config_value(value):
    return float(value) if is_number(value) else np.asarray(value).tolist()


class Rescaling(Layer):
    """Multiplies by ``scale`` and adds ``offset`` (``scale=1/255`` maps [0, 255] to [0, 1];
    ``scale=1/127.5, offset=-1`` to [-1, 1]). Integer inputs give float32 outputs. An array
    ``scale`` broadcasts against the last axis (the channels)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        self._scale = _as_constant("Rescaling", "scale", scale)
        self._offset = _as_constant("Rescaling", "offset", offset)
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        inputs, _ = float_input(inputs)
        dtype = inputs.dtype.numpy
        scale = ember.from_numpy(self._scale.astype(dtype))
        offset = ember.from_numpy(self._offset.astype(dtype))
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": _config_value(self.scale),
                "offset": _config_value(self.offset)}
