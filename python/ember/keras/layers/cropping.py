"""keras.layers.Cropping1D/2D: rows and columns cut from the ends of the spatial axes."""
from __future__ import annotations

import ember
from . import conv_utils as U
from .spatial_layer import SpatialLayer


def _crop_pair(owner, value, what):
    return U.standardize_tuple(owner, what, value, 2, allow_zero=True)


def _check_fits(layer, shape, spatial, cropping):
    """Keras' rule: each axis keeps at least one position."""
    for size, (before, after) in zip(spatial, cropping):
        if size is not None and before + after >= size:
            raise ember.ShapeError(
                f'{type(layer).__name__} "{layer.name}": cropping {layer.cropping} must be '
                f"smaller than the input's spatial size. Received: input of shape "
                f"{tuple(shape)}")


class Cropping1D(SpatialLayer):
    """cropping: int (both ends) or (start, end) on the steps axis of (batch, steps, features)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        self.cropping = _crop_pair("Cropping1D", cropping, "cropping")
        super().__init__(**kwargs)

    def call(self, inputs):
        shape = self._checked_shape(inputs)
        _check_fits(self, shape, shape[1:2], (self.cropping,))
        start, end = self.cropping
        return inputs[:, start:shape[1] - end]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        _check_fits(self, input_shape, input_shape[1:2], (self.cropping,))
        steps = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(SpatialLayer):
    """cropping: int (all sides), (symmetric_height, symmetric_width) or
    ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        owner = "Cropping2D"
        if U._is_int(cropping):
            self.cropping = (_crop_pair(owner, cropping, "cropping"),) * 2
        elif isinstance(cropping, (list, tuple)) and len(cropping) == 2:
            self.cropping = (_crop_pair(owner, cropping[0], "1st entry of cropping"),
                             _crop_pair(owner, cropping[1], "2nd entry of cropping"))
        else:
            raise ValueError(f"{owner}: cropping should be either an int, a tuple of 2 ints "
                             "(symmetric_height_crop, symmetric_width_crop), or a tuple of 2 "
                             "tuples of 2 ints ((top_crop, bottom_crop), (left_crop, "
                             f"right_crop)). Received: cropping={cropping!r}")
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**kwargs)

    def call(self, inputs):
        shape = self._checked_shape(inputs)
        spatial = U.spatial_shape(shape, self.data_format)
        _check_fits(self, shape, spatial, self.cropping)
        (top, bottom), (left, right) = self.cropping
        rows, cols = slice(top, spatial[0] - bottom), slice(left, spatial[1] - right)
        if self.data_format == "channels_last":
            return inputs[:, rows, cols]
        return inputs[:, :, rows, cols]

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = U.spatial_shape(input_shape, self.data_format)
        _check_fits(self, input_shape, spatial, self.cropping)
        sizes = tuple(None if n is None else n - sum(c) for n, c in zip(spatial, self.cropping))
        if self.data_format == "channels_last":
            return (input_shape[0],) + sizes + (input_shape[3],)
        return input_shape[:2] + sizes

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}
