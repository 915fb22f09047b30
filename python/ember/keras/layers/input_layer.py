"""keras.layers.InputLayer and keras.Input: the input of a functional graph or of a Sequential
model."""
from __future__ import annotations

import numbers

from ..engine.keras_tensor import KerasTensor, standardize_dtype
from ..engine.node import Node
from .layer import Layer

__all__ = ["Input", "InputLayer", "KerasTensor"]


def _check_shape(owner, shape):
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral)
                              or d < 0) for d in shape):
        raise ValueError(f"{owner}: shape must be a tuple of non-negative integers or None. "
                         f"Received: shape={shape}")
    return tuple(None if d is None else int(d) for d in shape)


class InputLayer(Layer):
    """Identity layer whose ``batch_shape`` is (batch_size, *shape); its ``output`` is the
    KerasTensor that starts a functional graph (what ``keras.Input`` returns)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None,
                 input_shape=None, **kwargs):
        if shape is None:
            shape = input_shape
        if sparse or ragged:
            raise NotImplementedError("InputLayer: sparse and ragged inputs are not supported by "
                                      "ember")
        if optional:
            raise NotImplementedError("InputLayer: optional inputs are not supported by ember")
        if input_tensor is not None:
            raise NotImplementedError("InputLayer: input_tensor (wrapping an existing tensor) "
                                      "is not supported by ember")
        if batch_shape is not None:
            batch_shape = _check_shape("InputLayer", batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("InputLayer: you must pass a `shape` argument.")
        super().__init__(name=name, **kwargs)  # (its dtype is the input's, any Keras dtype)
        self.batch_shape = (batch_size,) + _check_shape("InputLayer", shape)
        self.input_dtype = standardize_dtype(dtype)
        self.sparse = False
        self.built = True
        Node(self, outputs=KerasTensor(self.batch_shape, self.input_dtype, name=self.name))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.input_dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """keras.Input: a KerasTensor of shape (batch_size, *shape) to call layers on (the
    functional API) or to start a Sequential model with."""
    if tensor is not None:
        raise NotImplementedError("keras.Input: tensor= (wrapping an existing tensor) is not "
                                  "supported by ember")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, name=name, optional=optional)
    return layer.output
