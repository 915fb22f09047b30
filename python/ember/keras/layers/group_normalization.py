"""keras.layers.GroupNormalization: each sample normalized over groups of channels (and all
other axes), then scaled by gamma and shifted by beta per channel, as Keras 3 computes it.

The channel axis is moved next to the batch axis so each (sample, group) is one contiguous row
for F.layer_norm (biased variance, epsilon inside the square root, as Keras' ops.moments);
groups=-1 means one group per channel (instance normalization).
"""
from __future__ import annotations

import numbers

import ember
from ...nn import functional as F
from .. import initializers
from . import conv_utils as U
from .layer import Layer
from .weight_args import optional_config


class GroupNormalization(Layer):
    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        owner = "GroupNormalization"
        if not U._is_int(groups) or (groups <= 0 and groups != -1):
            raise ValueError(f"{owner}: groups must be a positive integer (or -1 for instance "
                             f"normalization). Received: groups={groups!r}")
        if not U._is_int(axis):
            raise ValueError(f"{owner}: axis must be an integer. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(f"{owner}: epsilon must be a non-negative float. "
                             f"Received: epsilon={epsilon!r}")
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = int(groups), int(axis), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint
        self.channels = None

    def _channel_axis(self, shape):
        ndim = len(shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ember.ShapeError(f'GroupNormalization "{self.name}": axis={self.axis} is not '
                                   f"a non-batch axis of the input of shape {tuple(shape)}")
        return self.axis % ndim

    def build(self, input_shape):
        dim = input_shape[self._channel_axis(input_shape)]
        if dim is None:
            raise ValueError(f'GroupNormalization "{self.name}": axis {self.axis} of the input '
                             f"must have a known size. Received: input_shape="
                             f"{tuple(input_shape)}")
        if self.groups == -1:
            self.groups = int(dim)
        if dim < self.groups or dim % self.groups:
            raise ValueError(f'GroupNormalization "{self.name}": the number of channels ({dim}) '
                             f"must be a multiple of groups ({self.groups}), and at least as "
                             f"many. Received: input_shape={tuple(input_shape)}")
        self.channels = int(dim)
        self.gamma = self.add_weight(shape=(dim,), name="gamma",
                                     initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape=(dim,), name="beta", initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        axis = self._channel_axis(shape)
        if shape[axis] != self.channels:
            raise ember.ShapeError(f'GroupNormalization "{self.name}" was built for '
                                   f"{self.channels} channels on axis {self.axis}; received "
                                   f"input of shape {shape}")
        ndim = len(shape)
        order = [0, axis] + [a for a in range(1, ndim) if a != axis]
        moved = order != list(range(ndim))
        x = inputs.permute(*order) if moved else inputs
        rows = shape[0] * self.groups
        size = x.numel() // rows if rows else 0
        out = F.layer_norm(x.reshape(rows, size), (size,), eps=self.epsilon).reshape(*x.shape)
        if moved:
            out = out.permute(*sorted(range(ndim), key=order.__getitem__))
        view = [1] * ndim
        view[axis] = self.channels
        if self.gamma is not None:
            out = out * self.gamma.reshape(*view)
        if self.beta is not None:
            out = out + self.beta.reshape(*view)
        return out

    def compute_output_shape(self, input_shape):
        self._channel_axis(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                **optional_config(self, "beta_regularizer", "gamma_regularizer",
                                  "beta_constraint", "gamma_constraint")}
