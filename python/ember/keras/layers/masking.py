"""keras.layers.Masking: time steps whose features all equal ``mask_value`` are masked: the
layer outputs zeros there and passes the mask (batch, time) on to the next layers (an LSTM/GRU
then skips those steps)."""
from __future__ import annotations

import numbers

import ember
from .layer import Layer


class Masking(Layer):
    def __init__(self, mask_value=0.0, **kwargs):
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError("Masking: mask_value must be a number. Received: "
                             f"mask_value={mask_value!r}")
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs):
        """True at the (batch, ..., 1) positions where some feature differs from mask_value."""
        if inputs.ndim < 2:
            raise ValueError(f'Masking "{self.name}": inputs need a batch and a feature axis. '
                             f"Received: inputs.shape={tuple(inputs.shape)}")
        return (inputs != self.mask_value).any(dim=-1, keepdim=True)

    def call(self, inputs):
        return ember.where(self._keep(inputs), inputs, 0.0)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs).squeeze(-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
