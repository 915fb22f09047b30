"""keras.layers.Dropout: inverted dropout, active only in training (Module.train())."""
from __future__ import annotations

import numbers

import ember
from ...nn import functional as F
from ..seeds import seeded_generator
from .layer import Layer


class Dropout(Layer):
    """Zeros a fraction ``rate`` of the inputs and scales the rest by 1 / (1 - rate) while
    training. ``seed`` gives the layer its own generator; otherwise draws come from ember's
    global one (``ember.manual_seed``)."""

    supports_masking = True  # (a mask passes through unchanged)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if (isinstance(rate, bool) or not isinstance(rate, numbers.Real)
                or not 0.0 <= rate <= 1.0):
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported by ember")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self._generator = seeded_generator(seed)

    def call(self, inputs, training=None):
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0.0:
            return inputs
        if self._generator is None:
            return F.dropout(inputs, p=self.rate, training=True)
        if self.rate == 1.0:
            return inputs * 0.0
        keep = ember.rand(*inputs.shape, generator=self._generator).numpy() >= self.rate
        scale = (keep / (1.0 - self.rate)).astype(inputs.dtype.numpy)
        return inputs * ember.from_numpy(scale)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
