"""keras.layers.SpatialDropout1D/2D: drops whole feature maps (one draw per sample and channel)
while training, scaling the kept ones by 1 / (1 - rate)."""
from __future__ import annotations

import numbers

import numpy as np

from ...nn import functional as F
from ...ops.activation import Dropout as _DropoutOp
from ..seeds import seeded_generator
from . import conv_utils as U
from .layer import Layer


class _SpatialDropout(Layer):
    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        owner = type(self).__name__
        if (isinstance(rate, bool) or not isinstance(rate, numbers.Real)
                or not 0.0 <= rate <= 1.0):
            raise ValueError(f"{owner}: Invalid value received for argument `rate`. Expected a "
                             f"float value between 0 and 1. Received: rate={rate!r}")
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self._generator = seeded_generator(seed)

    def build(self, input_shape):
        U.check_rank(self, input_shape, self.rank, self.data_format)
        self.built = True

    def call(self, inputs, training=None):
        U.check_rank(self, tuple(inputs.shape), self.rank, self.data_format)
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0.0:
            return inputs
        channels_last = self.data_format == "channels_last"
        if self._generator is None:
            drop = F.dropout2d if self.rank == 2 else F.dropout1d
            return drop(inputs, p=self.rate, training=True, channels_last=channels_last)
        # Own generator: the same mask rule as F.dropout1d/2d.
        shape = list(inputs.shape)
        for d in (range(1, 1 + self.rank) if channels_last else range(2, 2 + self.rank)):
            shape[d] = 1
        dtype = inputs.dtype.numpy
        keep = self._generator.rng.random(shape, dtype=np.float32) >= self.rate
        scale = 0.0 if self.rate == 1.0 else 1.0 / (1.0 - self.rate)
        return _DropoutOp.apply(inputs, keep.astype(dtype) * dtype.type(scale))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        config.pop("trainable", None)  # Keras' SpatialDropout takes no trainable argument
        if self.rank == 2:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) inputs."""

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, data_format=None, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels of (batch, height, width, channels) inputs (or NCHW with
    data_format="channels_first")."""

    rank = 2
