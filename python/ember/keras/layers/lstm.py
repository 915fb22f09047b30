"""keras.layers.LSTM on the fused LSTM kernel (see recurrent.py).

Keras' gate order i, f, c, o is PyTorch's i, f, g, o, so the kernel (features, 4*units) is the
transpose of ``weight_ih``; Keras' single bias (4*units,) is passed as b_ih with no b_hh.
"""
from __future__ import annotations

import numpy as np

from .. import activations, initializers
from .dense import _as_numpy
from .recurrent import RecurrentBase


class LSTM(RecurrentBase):
    """Long Short-Term Memory layer (Hochreiter 1997) with Keras' arguments and defaults.
    ``activation`` must be "tanh" and ``recurrent_activation`` "sigmoid" (the fused kernel's)."""

    gate_count = 4
    keras_gate_order = (0, 1, 2, 3)
    state_count = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            unroll=unroll, use_cudnn=use_cudnn, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _check_activations(self):
        self._require("activation", self.activation, (activations.tanh,))
        self._require("recurrent_activation", self.recurrent_activation, (activations.sigmoid,))

    def _mode(self):
        return "lstm"

    def _initial_bias(self):
        if not self.unit_forget_bias:
            return super()._initial_bias()
        # Keras: bias_initializer for i, ones for the forget gate, bias_initializer for c, o.
        units = self.units
        return np.concatenate([_as_numpy(self.bias_initializer((units,))),
                               _as_numpy(initializers.Ones()((units,))),
                               _as_numpy(self.bias_initializer((2 * units,)))])

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        config["use_cudnn"] = self.use_cudnn
        return config
