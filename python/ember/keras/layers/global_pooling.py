"""keras.layers.GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D: one value per channel.

Averages are a mean over the spatial axes (in channels_last data one pass adding whole rows
of channels, several times faster than the adaptive pooling kernel with output size 1);
maxima use ember's adaptive max pooling with output size 1."""
from __future__ import annotations

from ...nn import functional as F
from . import conv_utils as U
from .layer import Layer

_MAX_POOLS = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d}


class _GlobalPooling(Layer):
    rank = 2
    kind = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        owner = type(self).__name__
        self.data_format = U.standardize_data_format(owner, data_format)
        if not isinstance(keepdims, bool):
            raise ValueError(f"{owner}: keepdims must be a bool. Received: keepdims={keepdims!r}")
        super().__init__(**kwargs)
        self.keepdims = keepdims

    def build(self, input_shape):
        U.check_rank(self, input_shape, self.rank, self.data_format)
        self.built = True

    def call(self, inputs):
        U.check_rank(self, tuple(inputs.shape), self.rank, self.data_format)
        channels_last = self.data_format == "channels_last"
        if self.kind == "avg":
            first = 1 if channels_last else 2
            return inputs.mean(tuple(range(first, first + self.rank)), keepdim=self.keepdims)
        out = _MAX_POOLS[self.rank](inputs, 1, channels_last=channels_last)
        if self.keepdims:
            return out
        return out.reshape(out.shape[0], out.shape[-1] if channels_last else out.shape[1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    rank, kind = 1, "avg"


class GlobalAveragePooling2D(_GlobalPooling):
    rank, kind = 2, "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    rank, kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, kind = 2, "max"
