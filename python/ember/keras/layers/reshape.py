"""keras.layers.Reshape: (batch, ...) -> (batch, *target_shape), one entry may be -1."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from .layer import Layer


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        shape = (target_shape,) if isinstance(target_shape, numbers.Integral) \
            else tuple(target_shape) if isinstance(target_shape, (list, tuple)) else None
        if shape is None or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                or (d < 1 and d != -1) for d in shape) \
                or list(shape).count(-1) > 1:
            raise ValueError("Reshape: target_shape must be a tuple of positive integers with "
                             f"at most one -1. Received: target_shape={target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in shape)

    def _resolved(self, input_shape):
        """target_shape with -1 filled in for an input of ``input_shape`` (batch first)."""
        size = int(np.prod(input_shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if known == 0 or size % known:
                self._mismatch(input_shape)
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            self._mismatch(input_shape)
        return self.target_shape

    def _mismatch(self, input_shape):
        raise ember.ShapeError(f'Reshape "{self.name}": the total size of the new array must be '
                               f"unchanged: input_shape = {tuple(input_shape[1:])}, "
                               f"target_shape = {self.target_shape}")

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], *self._resolved(tuple(inputs.shape)))

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolved(tuple(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
