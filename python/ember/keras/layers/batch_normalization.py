"""keras.layers.BatchNormalization with Keras' statistics.

Keras' momentum m keeps ``moving = m * moving + (1 - m) * batch`` with the *biased* batch
variance (PyTorch uses 1 - m and the unbiased one), so the layer normalizes with ember's batch
norm kernel and updates its moving statistics itself from the batch statistics the kernel
returns. It uses the batch statistics only while training (``model.train()`` / ``fit``, or
``training=True``) and while trainable, as Keras does; otherwise the moving statistics.
"""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ...nn import functional as F
from ...ops.norm import BatchNorm
from .. import constraints, initializers, regularizers
from .dense import _as_numpy
from .layer import Layer, weight_options_config
from .layer_normalization import add_gamma_beta

_INITIALIZERS = ("beta_initializer", "gamma_initializer", "moving_mean_initializer",
                 "moving_variance_initializer")


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        if synchronized:
            raise NotImplementedError("BatchNormalization: synchronized=True (cross-replica "
                                      "statistics) is not supported by ember")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError("BatchNormalization: axis must be an integer. "
                             f"Received: axis={axis!r}")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                or not 0.0 <= momentum <= 1.0:
            raise ValueError("BatchNormalization: momentum must be a float between 0 and 1. "
                             f"Received: momentum={momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError("BatchNormalization: epsilon must be a positive float. "
                             f"Received: epsilon={epsilon!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        for weight, regularizer, constraint in (("beta", beta_regularizer, beta_constraint),
                                                ("gamma", gamma_regularizer, gamma_constraint)):
            setattr(self, f"{weight}_regularizer", regularizers.get(regularizer))
            setattr(self, f"{weight}_constraint", constraints.get(constraint))
        for name, value in zip(_INITIALIZERS, (beta_initializer, gamma_initializer,
                                               moving_mean_initializer,
                                               moving_variance_initializer)):
            setattr(self, name, initializers.get(value))
        self._ndim = None

    # ---- weights: gamma, beta (trainable), moving_mean, moving_variance (buffers) ------------
    def _resolve_axis(self, shape):
        ndim = len(shape)
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if ndim < 2 or not 1 <= axis < ndim:
            raise ember.ShapeError(f'BatchNormalization "{self.name}": axis={self.axis} is not a '
                                   "feature axis of an input of shape "
                                   f"{tuple(shape)} (the batch axis is 0)")
        return axis

    def build(self, input_shape):
        axis = self._resolve_axis(input_shape)
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(f'BatchNormalization "{self.name}": axis {self.axis} of the input '
                             f"must be known. Received: input_shape={tuple(input_shape)}")
        self._ndim, self.num_features = len(input_shape), int(dim)

        def values(init):
            return np.ascontiguousarray(_as_numpy(init((self.num_features,))), np.float32)

        add_gamma_beta(self, (self.num_features,))
        self.register_buffer("moving_mean", ember.from_numpy(values(self.moving_mean_initializer)))
        self.register_buffer("moving_variance",
                             ember.from_numpy(values(self.moving_variance_initializer)))
        self.built = True

    def _own_weights(self):
        own = super()._own_weights()
        if self.built:
            own += [(n, self._buffers[n]) for n in ("moving_mean", "moving_variance")]
        return own

    # ---- call --------------------------------------------------------------------------------
    def call(self, inputs, training=None):
        return self._normalize(inputs, training, fuse_relu=False)

    def call_fused_relu(self, inputs, training=None):
        """call, then ReLU computed in the normalization's own pass (Sequential uses it for a
        BatchNormalization followed by a plain ReLU): one pass over the activations less in
        each direction."""
        return self._normalize(inputs, training, fuse_relu=True)

    def _normalize(self, inputs, training, fuse_relu):
        shape = tuple(inputs.shape)
        axis = self._resolve_axis(shape)
        if len(shape) != self._ndim or shape[axis] != self.num_features:
            raise ember.ShapeError(
                f'BatchNormalization "{self.name}" was built for {self._ndim}-D inputs with '
                f"{self.num_features} features on axis {self.axis}; received input of shape "
                f"{shape}. (Keras layers expect channels_last data unless given axis=1.)")
        training = self.training if training is None else bool(training)
        # Normalize over every axis but `axis`: the kernel wants it last (or at 1).
        last = axis == len(shape) - 1
        x = inputs if last or axis == 1 else inputs.transpose(axis, -1)
        channels_last = last or axis != 1
        if training and self.trainable:
            stats = []
            out = BatchNorm.apply(x, self.gamma, self.beta, training=True, eps=self.epsilon,
                                  channels_last=channels_last, stats_sink=stats, relu=fuse_relu)
            self._update_moving(*stats[0])
        else:
            out = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                               training=False, eps=self.epsilon, channels_last=channels_last,
                               fuse_relu=fuse_relu)
        return out if last or axis == 1 else out.transpose(axis, -1)

    def _update_moving(self, batch_mean, batch_var):
        """Keras: moving = moving * momentum + batch * (1 - momentum), biased variance."""
        m = self.momentum
        for name, batch in (("moving_mean", batch_mean), ("moving_variance", batch_var)):
            arr = self._buffers[name]._array
            arr *= m
            arr += (1.0 - m) * np.asarray(batch, dtype=np.float64).astype(arr.dtype, copy=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{name: initializers.serialize(getattr(self, name)) for name in _INITIALIZERS},
                **weight_options_config(self, "beta", "gamma")}

