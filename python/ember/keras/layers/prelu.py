"""keras.layers.PReLU: x for x >= 0, alpha * x below, with a learned ``alpha`` of Keras' layout:
the input shape without the batch axis, 1 along each of ``shared_axes``."""
from __future__ import annotations

import importlib
import numbers

from ...nn import functional as F
from .. import initializers
from .layer import Layer


def _weight_option(kind, value):
    """keras.<kind>.get(value) (kind: "regularizers" or "constraints"); None stays None. Those
    modules come with issue 9's regularizer work; until then a value is refused by name."""
    if value is None:
        return None
    try:
        module = importlib.import_module(f"ember.keras.{kind}")
    except ImportError:
        raise NotImplementedError(f"PReLU: alpha_{kind[:-1]} needs keras.{kind}, which this "
                                  "ember does not have") from None
    return module.get(value)


def _serialized(kind, value):
    if value is None:
        return None
    return importlib.import_module(f"ember.keras.{kind}").serialize(value)


class PReLU(Layer):
    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        if shared_axes is not None:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 1
                   for a in axes):
                raise ValueError("PReLU: shared_axes must be positive integers (axis 0 is the "
                                 f"batch). Received: shared_axes={shared_axes!r}")
            shared_axes = [int(a) for a in axes]
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = _weight_option("regularizers", alpha_regularizer)
        self.alpha_constraint = _weight_option("constraints", alpha_constraint)
        self.shared_axes = shared_axes
        self.supports_masking = True
        self._alpha_input_shape = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis >= len(input_shape):
                raise ValueError(f'PReLU "{self.name}": shared axis {axis} is out of range for '
                                 f"inputs of shape {input_shape}")
            param_shape[axis - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f'PReLU "{self.name}": every axis not in shared_axes must be known '
                             f"to build alpha. Received: input_shape={input_shape}")
        self.add_weight(shape=param_shape, initializer=self.alpha_initializer,
                        regularizer=self.alpha_regularizer, constraint=self.alpha_constraint,
                        name="alpha")
        self._alpha_input_shape = input_shape
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        expected = self._alpha_input_shape
        if len(shape) != len(expected) or any(
                d != e for i, (d, e) in enumerate(zip(shape, expected))
                if i > 0 and i not in (self.shared_axes or [])):
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"alpha of shape {tuple(self.alpha.shape)} was built for inputs of "
                             f"shape {expected}, received shape {shape}")
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": _serialized("regularizers", self.alpha_regularizer),
                "alpha_constraint": _serialized("constraints", self.alpha_constraint),
                "shared_axes": self.shared_axes}
