"""SpatialLayer: the base of weightless layers over batches of ``rank``-D feature maps
(cropping, up-sampling): the rank is checked when built and on every call."""
from __future__ import annotations

from . import conv_utils as U
from .layer import Layer


class SpatialLayer(Layer):
    rank = 2
    data_format = "channels_last"  # layers with a data_format argument set their own

    def build(self, input_shape):
        U.check_rank(self, input_shape, self.rank, self.data_format)
        self.built = True

    def _checked_shape(self, inputs):
        shape = tuple(inputs.shape)
        U.check_rank(self, shape, self.rank, self.data_format)
        return shape
