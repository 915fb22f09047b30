"""The base of ember's Keras augmentation layers: random transforms unless called for
inference.

As in Keras 3.15, ``call`` defaults to training=True: a plain ``layer(x)`` or ``model(x)``
augments, and so does fit; ``training=False`` (``model(x, training=False)``), predict and
evaluate return the input unchanged (as float32). ``seed`` gives the layer its own generator;
otherwise draws come from ember's global one (``keras.utils.set_random_seed``)."""
from __future__ import annotations

import numpy as np

import ember
from ...seeds import seeded_generator
from ..conv_utils import standardize_data_format
from ..layer import Layer
from .affine_transform import FILL_MODES, INTERPOLATIONS
from .image_utils import float_input, image_axes, is_number


def check_factor(owner, name, factor, bounds, message=None, lower_open=False,
                 keras_base=False):
    """Keras' (lower, upper) from a number f or a pair (sorted). The base image layers
    (``keras_base``: rotation, contrast, brightness) give (max(-|f|, bounds[0]), |f|) and only
    reject pairs entirely outside the bounds; zoom and translation check every value."""
    message = message or (f"The `{name}` argument should be a number (or a list of two "
                          f"numbers) in the range [{bounds[0]}, {bounds[1]}]. ")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(is_number(f) for f in factor):
            raise ValueError(f"{owner}: {message}Received: {name}={factor!r}")
        if keras_base:
            bad = factor[0] > bounds[1] or factor[1] < bounds[0]
        else:
            bad = any(_outside(v, bounds, lower_open) for v in factor)
        if bad:
            raise ValueError(f"{owner}: {message}Received: {name}={factor!r}")
        return tuple(sorted(factor))
    if not is_number(factor) or _outside(factor, bounds, lower_open):
        raise ValueError(f"{owner}: {message}Received: {name}={factor!r}")
    if keras_base:
        return max(-abs(factor), bounds[0]), abs(factor)
    return -abs(factor), abs(factor)


def _outside(value, bounds, lower_open):
    return value > bounds[1] or value < bounds[0] or (lower_open and value == bounds[0])


def check_fill(owner, fill_mode, interpolation, fill_value):
    if fill_mode not in FILL_MODES:
        raise NotImplementedError(f"{owner}: Unknown `fill_mode` {fill_mode}. Expected of one "
                                  f"{FILL_MODES}.")
    if interpolation not in INTERPOLATIONS:
        raise NotImplementedError(f"{owner}: Unknown `interpolation` {interpolation}. Expected "
                                  f"of one {INTERPOLATIONS}.")
    if not is_number(fill_value):
        raise ValueError(f"{owner}: fill_value must be a number. Received: "
                         f"fill_value={fill_value!r}")


class RandomImageLayer(Layer):
    """Subclasses implement ``augment(images)`` on a float batch (N, H, W, C) or (N, C, H, W)
    and may use ``uniform(shape, low, high)`` for their random parameters."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        data_format = standardize_data_format(type(self).__name__, data_format)
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = data_format
        self._generator = seeded_generator(seed)

    def uniform(self, shape, low, high) -> np.ndarray:
        """float32 draws in [low, high), as Keras' random.uniform (u * (high - low) + low)."""
        u = ember.rand(*shape, generator=self._generator).numpy()
        return (u * np.float32(high - low) + np.float32(low)).astype(np.float32)

    def call(self, inputs, training=True):
        images, _ = float_input(inputs)
        image_axes(type(self).__name__, images.shape, self.data_format)
        training = self.training if training is None else bool(training)
        if not training:
            return images
        if images.ndim == 3:
            return self.augment(images.unsqueeze(0)).squeeze(0)
        return self.augment(images)

    def augment(self, images):
        raise NotImplementedError

    def spatial_size(self, images):
        h_axis, w_axis = image_axes(type(self).__name__, images.shape, self.data_format)
        return images.shape[h_axis], images.shape[w_axis]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
