"""keras.layers.InputLayer and keras.Input: declare the input shape of a Sequential model."""
from __future__ import annotations

import numbers

from .layer import Layer


def _check_shape(owner, shape):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral)
                              or d < 0) for d in shape):
        raise ValueError(f"{owner}: shape must be a tuple of non-negative integers or None. "
                         f"Received: shape={shape}")
    return tuple(None if d is None else int(d) for d in shape)


class InputLayer(Layer):
    """Identity layer whose ``batch_shape`` is (batch_size, *shape)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, input_shape=None,
                 batch_shape=None, name=None, **kwargs):
        if shape is None:
            shape = input_shape
        if batch_shape is not None:
            batch_shape = _check_shape("InputLayer", batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("InputLayer: you must pass a `shape` argument.")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.batch_shape = (batch_size,) + _check_shape("InputLayer", shape)
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"name": self.name, "batch_shape": self.batch_shape}


class KerasTensor:
    """What keras.Input returns: a symbolic shape that a Sequential model accepts as its first
    entry. Calling layers on it (the functional API) is not supported by ember."""

    def __init__(self, input_layer: InputLayer):
        self._keras_history = (input_layer, 0, 0)
        self.shape = input_layer.batch_shape
        self.dtype = "float32"
        self.name = input_layer.name

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """keras.Input: returns a KerasTensor to start a Sequential model with."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape)
    return KerasTensor(layer)
