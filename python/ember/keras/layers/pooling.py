"""keras.layers.MaxPooling1D/2D and AveragePooling1D/2D on ember's pooling kernels.

"same" padding follows TF (output ceil(size / stride), the odd pixel after); max pooling
ignores the padding and average pooling leaves it out of the count, as Keras does.
"""
from __future__ import annotations

import ember
from ...nn import functional as F
from ...nn._functional_pool import max_pool_geometry
from ...ops.pool import MaxPool2d as MaxPoolOp
from . import conv_utils as U
from .layer import Layer


class _Pooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        owner = type(self).__name__
        self.pool_size = U.standardize_tuple(owner, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else \
            U.standardize_tuple(owner, "strides", strides, self.rank)
        self.padding = U.standardize_padding(owner, padding)
        self.data_format = U.standardize_data_format(owner, data_format)
        super().__init__(**kwargs)

    def build(self, input_shape):
        U.check_rank(self, input_shape, self.rank, self.data_format)
        self.built = True

    def call(self, inputs):
        if self.rank == 2 and self.kind == "max":
            return self._max_pool2d(inputs)
        padding = self._padding_for(tuple(inputs.shape))
        channels_last = self.data_format == "channels_last"
        if self.kind == "max":
            return F.max_pool1d(inputs, self.pool_size, self.strides, padding,
                                channels_last=channels_last)
        pool = F.avg_pool2d if self.rank == 2 else F.avg_pool1d
        return pool(inputs, self.pool_size, self.strides, padding, count_include_pad=False,
                    channels_last=channels_last)

    def _padding_for(self, shape):
        U.check_rank(self, shape, self.rank, self.data_format)
        spatial = U.spatial_shape(shape, self.data_format)
        pads = U.explicit_padding(self.padding, spatial, self.pool_size, self.strides,
                                  (1,) * self.rank)
        if any(U.output_length(s, k, st, 1, b, a) < 1 for s, k, st, (b, a) in
               zip(spatial, self.pool_size, self.strides, pads)):
            raise ember.ShapeError(
                f'{type(self).__name__} "{self.name}": pool_size {self.pool_size} is larger '
                f"than the input's spatial size {spatial} with padding='valid'. Received: input "
                f"of shape {shape} (data_format={self.data_format!r})")
        return tuple(p for pair in pads for p in pair)

    def _max_pool2d(self, inputs):
        """F.max_pool2d's op with the checks and geometry worked out once per input shape (as
        Conv2D does: at batch 1 they cost as much as the kernel)."""
        shape = inputs._array.shape
        cached = self.__dict__.get("_geometry")  # (a plain attribute: no Module.__setattr__)
        if cached is None or cached[0] != shape:
            _, _, geometry = max_pool_geometry(
                "max_pool2d", 4, inputs, self.pool_size, self.strides,
                self._padding_for(tuple(shape)), 1, False, self.data_format == "channels_last")
            self.__dict__["_geometry"] = cached = (shape, geometry)
        if ember.autograd._state.enabled:
            return MaxPoolOp.apply(inputs, geometry=cached[1])
        return MaxPoolOp.infer(inputs, cached[1])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    rank, kind = 1, "max"


class MaxPooling2D(_Pooling):
    rank, kind = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    rank, kind = 1, "avg"


class AveragePooling2D(_Pooling):
    rank, kind = 2, "avg"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
