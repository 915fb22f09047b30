"""keras.layers.UnitNormalization: each sample scaled to unit L2 norm over ``axis``, as Keras'
ops.normalize(order=2, epsilon=1e-12): x * min(1 / sqrt(sum(x ** 2)), 1 / epsilon)."""
from __future__ import annotations

import ember
from . import conv_utils as U
from .layer import Layer

_EPSILON = 1e-12


class UnitNormalization(Layer):
    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, (list, tuple)) and all(U._is_int(a) for a in axis):
            axis = [int(a) for a in axis]
        elif U._is_int(axis):
            axis = int(axis)
        else:
            raise TypeError("UnitNormalization: axis must be an int or a list/tuple of ints. "
                            f"Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = axis
        self.built = True  # no weights: built at once, as in Keras

    def _axes(self, shape):
        ndim = len(shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -ndim <= a < ndim for a in axes):
            raise ember.ShapeError(f'UnitNormalization "{self.name}": axis {self.axis} is out of '
                                   f"bounds for input of shape {tuple(shape)}")
        return tuple(a % ndim for a in axes)

    def call(self, inputs):
        axes = self._axes(tuple(inputs.shape))
        inv_norm = (inputs * inputs).sum(dim=axes, keepdim=True).rsqrt()
        return inputs * inv_norm.clamp(max=1.0 / _EPSILON)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
