"""keras.layers.GRU (reset_after=True, Keras' default and PyTorch's formula) on the fused GRU
kernel (see recurrent.py).

Keras' gate blocks are z, r, h; PyTorch's r, z, n: the layout conversion swaps the first two
blocks. Keras' bias (2, 3*units) holds the input bias (row 0) and the recurrent bias (row 1),
which are PyTorch's b_ih and b_hh.
"""
from __future__ import annotations

from .. import activations
from .dense import _as_numpy
from .recurrent import RecurrentBase


class GRU(RecurrentBase):
    """Gated Recurrent Unit (Cho et al. 2014) with Keras' arguments and defaults.
    ``activation`` must be "tanh", ``recurrent_activation`` "sigmoid" and ``reset_after`` True."""

    gate_count = 3
    keras_gate_order = (1, 0, 2)  # PyTorch r, z, n = Keras blocks 1, 0, 2
    state_count = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        if not reset_after:
            raise NotImplementedError(
                "GRU: reset_after=False (the reset gate applied before the recurrent matmul) is "
                "not supported by ember; use reset_after=True (Keras' default, PyTorch's GRU).")
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
        self.reset_after = True

    def _check_activations(self):
        self._require("activation", self.activation, (activations.tanh,))
        self._require("recurrent_activation", self.recurrent_activation, (activations.sigmoid,))

    def _mode(self):
        return "gru"

    def _initial_bias(self):
        # Keras: bias_initializer of shape (2, 3*units): input bias, recurrent bias.
        return _as_numpy(self.bias_initializer((2, self.gate_count * self.units)))

    def _biases(self):
        return (None, None) if self.bias is None else (self.bias[0], self.bias[1])

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        config["use_cudnn"] = self.use_cudnn
        return config
