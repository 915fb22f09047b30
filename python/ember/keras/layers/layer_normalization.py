"""keras.layers.LayerNormalization: normalizes each sample over ``axis`` (F.layer_norm, with the
axes moved last when they are not already the trailing ones)."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ...nn import functional as F
from .. import constraints, initializers, regularizers
from .layer import Layer, weight_options_config

_INITIALIZERS = ("beta_initializer", "gamma_initializer")


def add_gamma_beta(layer, shape):
    """The normalization layers' trainable scale ``gamma`` (if layer.scale) and offset
    ``beta`` (if layer.center), with their initializers, regularizers and constraints."""
    for weight, on in (("gamma", layer.scale), ("beta", layer.center)):
        if on:
            layer._add_weight(weight, shape, getattr(layer, f"{weight}_initializer"),
                              regularizer=getattr(layer, f"{weight}_regularizer"),
                              constraint=getattr(layer, f"{weight}_constraint"), name=weight)
        else:
            setattr(layer, weight, None)


class LayerNormalization(Layer):
    supports_masking = True  # (a mask passes through unchanged)

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if rms_scaling:
            raise NotImplementedError("LayerNormalization: rms_scaling=True is not supported by "
                                      "ember")
        axes = [axis] if isinstance(axis, numbers.Integral) else list(axis) \
            if isinstance(axis, (list, tuple)) else None
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral)
                           for a in axes):
            raise ValueError("LayerNormalization: axis must be an integer or a list of "
                             f"integers. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError("LayerNormalization: epsilon must be a positive float. "
                             f"Received: epsilon={epsilon!r}")
        super().__init__(**kwargs)
        self.axis = int(axis) if isinstance(axis, numbers.Integral) else [int(a) for a in axes]
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        for weight, regularizer, constraint in (("beta", beta_regularizer, beta_constraint),
                                                ("gamma", gamma_regularizer, gamma_constraint)):
            setattr(self, f"{weight}_regularizer", regularizers.get(regularizer))
            setattr(self, f"{weight}_constraint", constraints.get(constraint))
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self._ndim = None

    def _axes(self, shape):
        """The normalized axes as sorted non-negative ints."""
        ndim = len(shape)
        raw = [self.axis] if isinstance(self.axis, int) else self.axis
        axes = sorted({a + ndim if a < 0 else a for a in raw})
        if any(not 1 <= a < ndim for a in axes) or len(axes) != len(raw):
            raise ember.ShapeError(f'LayerNormalization "{self.name}": axis={self.axis} is '
                                   f"invalid for an input of shape {tuple(shape)} (the batch "
                                   "axis is 0; each axis once)")
        return axes

    def build(self, input_shape):
        axes = self._axes(input_shape)
        self._ndim = len(input_shape)
        self.param_shape = tuple(int(input_shape[a]) for a in axes)

        add_gamma_beta(self, self.param_shape)
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        axes = self._axes(shape)
        if len(shape) != self._ndim or tuple(shape[a] for a in axes) != self.param_shape:
            raise ember.ShapeError(
                f'LayerNormalization "{self.name}" was built for {self._ndim}-D inputs '
                f"normalized over axes {self.axis} of sizes {self.param_shape}; received input "
                f"of shape {shape}")
        ndim = len(shape)
        rest = [a for a in range(ndim) if a not in axes]
        trailing = axes == list(range(ndim - len(axes), ndim))
        x = inputs if trailing else inputs.permute(*(rest + axes))
        out = F.layer_norm(x, self.param_shape, self.gamma, self.beta, eps=self.epsilon)
        if trailing:
            return out
        inverse = np.argsort(rest + axes).tolist()
        return out.permute(*inverse)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **{name: initializers.serialize(getattr(self, name)) for name in _INITIALIZERS},
                **weight_options_config(self, "beta", "gamma")}

