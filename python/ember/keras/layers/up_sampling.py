"""keras.layers.UpSampling1D/2D: each position repeated ``size`` times (nearest), or a bilinear
resize by ``size`` (F.interpolate, half-pixel centres as Keras' image.resize)."""
from __future__ import annotations

from ...nn import functional as F
from . import conv_utils as U
from .spatial_layer import SpatialLayer

# Keras' other interpolations; ember's F.interpolate has no matching kernel for these.
_NOT_IMPLEMENTED = ("bicubic", "lanczos3", "lanczos5", "area")


class UpSampling1D(SpatialLayer):
    """Repeats each step of (batch, steps, features) ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        if not U._is_int(size):
            raise TypeError(f"UpSampling1D: expected an integer value for size. "
                            f"Received: size={size!r}")
        if size <= 0:
            raise ValueError(f"UpSampling1D: size should be a positive integer. "
                             f"Received: size={size}")
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs):
        self._checked_shape(inputs)
        return F.interpolate(inputs, scale_factor=self.size, mode="nearest", channels_last=True)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(SpatialLayer):
    """Scales rows and columns by size = (rows, cols); interpolation "nearest" or "bilinear"."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        owner = "UpSampling2D"
        self.size = U.standardize_tuple(owner, "size", size, 2)
        self.data_format = U.standardize_data_format(owner, data_format)
        mode = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if mode in _NOT_IMPLEMENTED:
            raise NotImplementedError(f"{owner}: interpolation={interpolation!r} is not "
                                      "supported by ember; use 'nearest' or 'bilinear'")
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"{owner}: interpolation must be one of 'nearest', 'bilinear', "
                             f"{', '.join(map(repr, _NOT_IMPLEMENTED))}. Received: "
                             f"interpolation={interpolation!r}")
        super().__init__(**kwargs)
        self.interpolation = mode

    def call(self, inputs):
        shape = self._checked_shape(inputs)
        # An explicit size (not a scale factor): source positions from the sizes' ratio, as
        # Keras' resize computes them.
        size = tuple(n * s for n, s in zip(U.spatial_shape(shape, self.data_format), self.size))
        kwargs = {} if self.interpolation == "nearest" else {"align_corners": False}
        return F.interpolate(inputs, size=size, mode=self.interpolation,
                             channels_last=self.data_format == "channels_last", **kwargs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        sizes = tuple(None if n is None else n * s for n, s in
                      zip(U.spatial_shape(input_shape, self.data_format), self.size))
        if self.data_format == "channels_last":
            return (input_shape[0],) + sizes + (input_shape[3],)
        return input_shape[:2] + sizes

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
