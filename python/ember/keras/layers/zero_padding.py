"""keras.layers.ZeroPadding1D/2D: zeros added around the spatial axes (F.pad)."""
from __future__ import annotations

from ...nn import functional as F
from . import conv_utils as U
from .layer import Layer


def _pair(owner, value):
    """An int or a 2-tuple of ints as (before, after), each >= 0."""
    return U.standardize_tuple(owner, "padding", value, 2, allow_zero=True)


class ZeroPadding2D(Layer):
    """padding: int (all sides), (symmetric_height, symmetric_width) or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        owner = "ZeroPadding2D"
        if U._is_int(padding):
            pads = ((padding, padding), (padding, padding))
        elif isinstance(padding, (list, tuple)) and len(padding) == 2:
            pads = tuple((p, p) if U._is_int(p) else p for p in padding)
        else:
            raise ValueError(f"{owner}: padding should be an int, a tuple of 2 ints or a tuple "
                             f"of 2 tuples of 2 ints. Received: padding={padding!r}")
        try:
            self.padding = tuple(_pair(owner, p) for p in pads)
        except ValueError:
            raise ValueError(f"{owner}: padding should be non-negative: an int, a tuple of 2 "
                             "ints or a tuple of 2 tuples of 2 ints. Received: "
                             f"padding={padding!r}") from None
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**kwargs)

    def build(self, input_shape):
        U.check_rank(self, input_shape, 2, self.data_format)
        self.built = True

    def call(self, inputs):
        U.check_rank(self, tuple(inputs.shape), 2, self.data_format)
        (top, bottom), (left, right) = self.padding
        # F.pad lists the last dimension first.
        pad = (left, right, top, bottom)
        if self.data_format == "channels_last":
            pad = (0, 0) + pad
        return F.pad(inputs, pad)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(Layer):
    """padding: int (both ends) or (left, right) on the steps axis."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        self.padding = _pair("ZeroPadding1D", padding)
        self.data_format = U.standardize_data_format("ZeroPadding1D", data_format)
        super().__init__(**kwargs)

    def build(self, input_shape):
        U.check_rank(self, input_shape, 1, self.data_format)
        self.built = True

    def call(self, inputs):
        U.check_rank(self, tuple(inputs.shape), 1, self.data_format)
        pad = tuple(self.padding)
        return F.pad(inputs, (0, 0) + pad if self.data_format == "channels_last" else pad)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}
