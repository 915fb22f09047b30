"""keras.layers.Softmax: softmax over one axis or several, with Keras' optional ``mask`` (masked
entries get no probability: the logits become -1e9 before, the outputs 0 after)."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from .. import activations
from .layer import Layer

_LARGE_NEGATIVE = -1e9  # Keras' stand-in for -inf at masked logits (float32 and float64)


def _check_axis(axis):
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise ValueError("Softmax: axis must be an integer or a list of integers. Received: "
                         f"axis={axis!r}")
    return list(axis) if isinstance(axis, (list, tuple)) else int(axis)


class Softmax(Layer):
    def __init__(self, axis=-1, **kwargs):
        self.axis = _check_axis(axis)
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_axes_in_range(self, ndim):
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -ndim <= a < ndim:
                raise ValueError(f'Softmax "{self.name}": axis {a} is out of range for an input '
                                 f"of rank {ndim}")

    def call(self, inputs, mask=None):
        self._check_axes_in_range(inputs.ndim)
        if mask is not None:
            mask = self._bool_mask(mask, tuple(inputs.shape))
            inputs = ember.where(mask, inputs, _LARGE_NEGATIVE)
        if isinstance(self.axis, list) and len(self.axis) > 1:
            axes = tuple(self.axis)
            outputs = (inputs - ember.logsumexp(inputs, dim=axes, keepdim=True)).exp()
        else:
            axis = self.axis[0] if isinstance(self.axis, list) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = ember.where(mask, outputs, 0.0)
        return outputs

    @staticmethod
    def _bool_mask(mask, input_shape):
        """The mask as a bool tensor broadcastable to the inputs (Keras: values > 0.5 keep)."""
        array = mask.detach().numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)
        if array.ndim > len(input_shape) or any(
                m != 1 and m != i for m, i in zip(array.shape[::-1], input_shape[::-1])):
            raise ValueError("Softmax: the `mask` must be broadcastable to `inputs`: each mask "
                             "dimension must be 1 or match the corresponding input dimension, "
                             f"and it must not have more dimensions. Received: "
                             f"inputs.shape={input_shape}, mask.shape={array.shape}")
        if array.dtype != np.bool_:
            array = array > 0.5
        return ember.from_numpy(np.ascontiguousarray(array))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
