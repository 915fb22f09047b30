"""keras.layers.RandomFlip, RandomRotation, RandomZoom and RandomTranslation: a random flip or
affine transform per image while training (see random_layer.py), with Keras' transform
matrices (rotation about the image centre ((W - 1) / 2, (H - 1) / 2), factors as fractions of a
full turn or of the image size) and Keras' fill modes and interpolations."""
from __future__ import annotations

import math

import numpy as np

import ember
from .affine_transform import affine_transform
from .random_layer import RandomImageLayer, check_factor, check_fill

_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(RandomImageLayer):
    """Flips each image with probability 1/2; in "horizontal_and_vertical" mode an image is
    flipped along both axes or neither (one draw, as Keras does)."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip: mode must be one of {_FLIP_MODES}. Received: "
                             f"mode={mode!r}")
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = mode

    def augment(self, images):
        flips = self.uniform((images.shape[0], 1, 1, 1), 0.0, 1.0) <= 0.5
        flips = ember.from_numpy(flips)
        h_axis, w_axis = (2, 3) if self.data_format == "channels_first" else (1, 2)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            images = ember.where(flips, ember.flip(images, (w_axis,)), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            images = ember.where(flips, ember.flip(images, (h_axis,)), images)
        return images

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}


class _RandomAffine(RandomImageLayer):
    def __init__(self, fill_mode, interpolation, seed, fill_value, data_format, **kwargs):
        check_fill(type(self).__name__, fill_mode, interpolation, fill_value)
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def augment(self, images):
        height, width = self.spatial_size(images)
        transforms = self.transforms(images.shape[0], height, width)
        return affine_transform(images, transforms, self.interpolation, self.fill_mode,
                                self.fill_value, self.data_format)

    def transforms(self, batch, height, width) -> np.ndarray:
        """(batch, 8) float32 rows [a0, a1, a2, b0, b1, b2, 0, 0]."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}


def rotation_matrices(angles_degrees, height, width) -> np.ndarray:
    """Keras' rotation about the image centre, in float32 as Keras computes it."""
    angle = angles_degrees.astype(np.float32) * np.float32(math.pi / 180.0)
    cx, cy = np.float32(0.5) * np.float32(width - 1), np.float32(0.5) * np.float32(height - 1)
    cos, sin = np.cos(angle), np.sin(angle)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    zeros = np.zeros_like(angle)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1).astype(np.float32)


class RandomRotation(_RandomAffine):
    """Rotates each image by an angle drawn from [lower, upper] * 360 degrees, where ``factor``
    is f (for [-f, f]) or a pair (lower, upper); a positive angle turns the image
    counter-clockwise."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        self.factor = check_factor("RandomRotation", "factor", factor, (-1, 1),
                                   keras_base=True)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def transforms(self, batch, height, width):
        lower, upper = self.factor
        angles = self.uniform((batch,), lower * 360.0, upper * 360.0)
        return rotation_matrices(angles, height, width)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


_ZOOM_MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a "
                 "list of two numbers) in the range (-1.0, 1.0]. ")


class RandomZoom(_RandomAffine):
    """Zooms each image by 1 + a factor drawn from [lower, upper] per axis (a negative factor
    zooms in); without ``width_factor`` both axes share the height's draw."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        self.height_lower, self.height_upper = check_factor(
            "RandomZoom", "height_factor", height_factor, (-1, 1), _ZOOM_MESSAGE,
            lower_open=True)
        if width_factor is not None:
            self.width_lower, self.width_upper = check_factor(
                "RandomZoom", "width_factor", width_factor, (-1, 1), _ZOOM_MESSAGE,
                lower_open=True)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor

    def transforms(self, batch, height, width):
        height_zoom = self.uniform((batch,), 1.0 + self.height_lower, 1.0 + self.height_upper)
        if self.width_factor is None:
            width_zoom = height_zoom
        else:
            width_zoom = self.uniform((batch,), 1.0 + self.width_lower, 1.0 + self.width_upper)
        x_offset = (np.float32(width) - np.float32(1.0)) / np.float32(2.0) * (1 - width_zoom)
        y_offset = (np.float32(height) - np.float32(1.0)) / np.float32(2.0) * (1 - height_zoom)
        zeros = np.zeros_like(width_zoom)
        return np.stack([width_zoom, zeros, x_offset, zeros, height_zoom, y_offset, zeros,
                         zeros], axis=1).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_RandomAffine):
    """Shifts each image by fractions of its height and width drawn from the factors' ranges
    (positive: down and right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        message = ("The `factor` argument should be a number (or a list of two numbers) in the "
                   "range [-1.0, 1.0]. ")
        self.height_lower, self.height_upper = check_factor(
            "RandomTranslation", "height_factor", height_factor, (-1, 1), message)
        self.width_lower, self.width_upper = check_factor(
            "RandomTranslation", "width_factor", width_factor, (-1, 1), message)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor

    def transforms(self, batch, height, width):
        dy = self.uniform((batch,), self.height_lower, self.height_upper) * np.float32(height)
        dx = self.uniform((batch,), self.width_lower, self.width_upper) * np.float32(width)
        ones, zeros = np.ones_like(dx), np.zeros_like(dx)
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros],
                        axis=1).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}
