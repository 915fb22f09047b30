"""keras.layers.GlobalAveragePooling1D/2D and GlobalMaxPooling1D/2D: one value per channel
(ember's adaptive pooling kernels with output size 1)."""
from __future__ import annotations

from ...nn import functional as F
from . import conv_utils as U
from .layer import Layer

_POOLS = {("avg", 1): F.adaptive_avg_pool1d, ("avg", 2): F.adaptive_avg_pool2d,
          ("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d}


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
        out = _POOLS[(self.kind, self.rank)](inputs, 1, channels_last=channels_last)
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
