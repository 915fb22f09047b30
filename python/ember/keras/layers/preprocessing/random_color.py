"""keras.layers.RandomContrast and RandomBrightness: a random per-image contrast factor or
brightness offset while training (see random_layer.py), clipped to ``value_range``."""
from __future__ import annotations

import ember
from .image_utils import is_number
from .random_layer import RandomImageLayer, check_factor


def _check_value_range(owner, value_range):
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(is_number(v) for v in value_range)):
        raise ValueError(f"{owner}: The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range!r}")
    return value_range


class RandomContrast(RandomImageLayer):
    """``(x - mean) * c + mean`` per image and channel (mean over height and width), c drawn
    from [1 - lower, 1 + upper]. As in Keras 3.15, a number f gives (lower, upper) = (0, f),
    so c lies in [1, 1 + f]; pass (f, f) for [1 - f, 1 + f]."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        factor = check_factor("RandomContrast", "factor", factor, (0, 1), keras_base=True)
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self.value_range = _check_value_range("RandomContrast", value_range)

    def augment(self, images):
        shape = (images.shape[0], 1, 1, 1)
        factor = ember.from_numpy(self.uniform(shape, 1.0 - self.factor[0],
                                               1.0 + self.factor[1]).astype(images.dtype.numpy))
        h_axis, w_axis = (2, 3) if self.data_format == "channels_first" else (1, 2)
        mean = images.mean(dim=h_axis, keepdim=True).mean(dim=w_axis, keepdim=True)
        out = (images - mean) * factor + mean
        return out.clamp(float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}


class RandomBrightness(RandomImageLayer):
    """Adds delta * (value_range[1] - value_range[0]) to each image, delta drawn from
    [lower, upper] (a number f gives [-f, f]), then clips to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        factor = check_factor("RandomBrightness", "factor", factor, (-1, 1), keras_base=True)
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self.value_range = sorted(_check_value_range("RandomBrightness", value_range))

    def augment(self, images):
        low, high = self.value_range
        delta = self.uniform((images.shape[0], 1, 1, 1), *self.factor) * (high - low)
        out = images + ember.from_numpy(delta.astype(images.dtype.numpy))
        return out.clamp(float(low), float(high))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range,
                "seed": self.seed}
