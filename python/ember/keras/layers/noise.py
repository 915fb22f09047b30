"""Keras' training-only noise layers: GaussianNoise (additive), GaussianDropout
(multiplicative) and AlphaDropout (SELU-preserving dropout), with Keras 3's formulas.

They act only while training (in fit/train_on_batch, or called with training=True) and return
their input unchanged otherwise. ``seed`` gives a layer its own random stream (two layers made
with one seed draw the same noise); without it draws come from ember's global generator
(``ember.manual_seed``). The noise is a constant of the graph: gradients flow to the input."""
from __future__ import annotations

import math
import numbers

import ember
from ..seeds import seeded_generator
from .layer import Layer

# SELU's constants (keras.activations.selu); AlphaDropout sends dropped units to -alpha * scale.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _unit_interval(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{owner}: Invalid value received for argument `{name}`. Expected a "
                         f"float value between 0 and 1. Received: {name}={value!r}")
    return value


class _TrainingNoise(Layer):
    """Shared by the three layers: the seed, the training switch, shape and config."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.supports_masking = True
        self._generator = seeded_generator(seed)

    def _active(self, training) -> bool:
        return self.training if training is None else bool(training)

    def _normal(self, shape, dtype):
        return ember.randn(*shape, generator=self._generator, dtype=dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GaussianNoise(_TrainingNoise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` while training."""

    def __init__(self, stddev, seed=None, **kwargs):
        self.stddev = _unit_interval("GaussianNoise", "stddev", stddev)
        super().__init__(seed=seed, **kwargs)

    def call(self, inputs, training=None):
        if not self._active(training) or self.stddev == 0:
            return inputs
        return inputs + self._normal(inputs.shape, inputs.dtype) * self.stddev

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_TrainingNoise):
    """Multiplies by 1-centred Gaussian noise of standard deviation sqrt(rate / (1 - rate))
    while training."""

    def __init__(self, rate, seed=None, **kwargs):
        self.rate = _unit_interval("GaussianDropout", "rate", rate)
        super().__init__(seed=seed, **kwargs)

    def call(self, inputs, training=None):
        if not self._active(training) or self.rate == 0:
            return inputs
        if self.rate == 1:
            raise ValueError(f'GaussianDropout "{self.name}": rate=1 asks for noise of infinite '
                             "standard deviation sqrt(rate / (1 - rate)) while training")
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (self._normal(inputs.shape, inputs.dtype) * stddev + 1.0)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(_TrainingNoise):
    """While training, sets a fraction ``rate`` of the units to SELU's saturation -alpha*scale
    and applies the affine map a * x + b that restores zero mean and unit variance:
    a = ((1 - rate) * (1 + rate * alpha_p^2)) ** -0.5, b = -a * alpha_p * rate.
    ``noise_shape`` (None entries taken from the input) shares one draw along its 1 axes."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        self.rate = _unit_interval("AlphaDropout", "rate", rate)
        if noise_shape is not None:
            if not isinstance(noise_shape, (list, tuple)) or any(
                    d is not None and (isinstance(d, bool) or not isinstance(
                        d, numbers.Integral) or d < 1) for d in noise_shape):
                raise ValueError("AlphaDropout: noise_shape must be a tuple of positive "
                                 f"integers or None. Received: noise_shape={noise_shape!r}")
            noise_shape = tuple(noise_shape)
        self.noise_shape = noise_shape
        super().__init__(seed=seed, **kwargs)

    def _concrete_noise_shape(self, shape):
        if self.noise_shape is None:
            return shape
        concrete = tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))
        if len(self.noise_shape) != len(shape) or any(
                n != 1 and n != s for n, s in zip(concrete, shape)):
            raise ValueError(f'AlphaDropout "{self.name}": noise_shape {self.noise_shape} is '
                             f"not broadcastable to the input shape {shape}")
        return concrete

    def call(self, inputs, training=None):
        if not self._active(training) or self.rate == 0:
            return inputs
        shape = self._concrete_noise_shape(tuple(inputs.shape))
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept = (ember.rand(*shape, generator=self._generator, dtype=inputs.dtype)
                >= self.rate).to(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return (inputs * kept + (1.0 - kept) * alpha_p) * a + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape}
