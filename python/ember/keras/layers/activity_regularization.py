"""keras.layers.ActivityRegularization: the identity, adding an L1/L2 penalty on its input
(divided by the batch size, as every activity regularizer) to ``losses``."""
from __future__ import annotations

from .. import regularizers
from .layer import Layer


class ActivityRegularization(Layer):
    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # (rebuilt from l1 and l2)
        return {**config, "l1": self.l1, "l2": self.l2}

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
