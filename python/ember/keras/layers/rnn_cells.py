"""keras.layers.SimpleRNNCell, LSTMCell and GRUCell: one time step of Keras' recurrent layers.

The weights are Keras' (``kernel`` (features, G*units), ``recurrent_kernel`` (units, G*units),
``bias``), made by ``add_weight`` in Keras layout, so ``get_weights()`` of ``RNN(LSTMCell(n))``
and of ``LSTM(n)`` interchange. ``keras.layers.RNN`` runs a built-in cell through the fused
kernel of the LSTM/GRU/SimpleRNN layers when its options allow (``fused_weights``); otherwise
it calls ``call(inputs, states, training)`` once per step, as Keras does.

Dropout follows Keras' DropoutRNNCell: one mask per sequence (created on the first step, kept
until ``reset_dropout_mask``); with ``recurrent_dropout`` > 0 LSTMCell and GRUCell use one mask
per gate (Keras' implementation 1).
"""
from __future__ import annotations

import inspect

import ember
from ...nn.modules.utils import _check_int
from .. import activations, initializers
from ..seeds import seeded_generator
from .layer import Layer
from .recurrent import _check_fraction


def _first_state(states):
    return states[0] if isinstance(states, (list, tuple)) else states


def _project(inputs, kernel, masks):
    """inputs @ kernel; with per-gate masks, gate block g of kernel sees inputs * masks[g]."""
    if masks is None:
        return ember.matmul(inputs, kernel)
    if not isinstance(masks, list):
        return ember.matmul(inputs * masks, kernel)
    blocks = ember.split(kernel, kernel.shape[1] // len(masks), dim=1)
    return ember.cat([ember.matmul(inputs * m, k) for m, k in zip(masks, blocks)], dim=1)


class RNNCellBase(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: arguments, weights, dropout masks.

    Subclasses set ``gate_count`` and define ``call`` and ``fused_weights``.
    """

    gate_count = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        owner = type(self).__name__
        units = _check_int(owner, "units", units)
        dropout = _check_fraction(owner, "dropout", dropout)
        recurrent_dropout = _check_fraction(owner, "recurrent_dropout", recurrent_dropout)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        # Handed to add_weight, which hooks regularizers and constraints in (or refuses them).
        self._weight_options = {
            "kernel": (kernel_regularizer, kernel_constraint),
            "recurrent_kernel": (recurrent_regularizer, recurrent_constraint),
            "bias": (bias_regularizer, bias_constraint)}
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self._generator = seeded_generator(seed)
        self.state_size = self.units
        self.output_size = self.units
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()

    # ---- weights -----------------------------------------------------------------------------
    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f'{type(self).__name__} "{self.name}": expected inputs of shape '
                             f"(batch, features) with known features. Received: input_shape="
                             f"{tuple(input_shape)}")
        gates = self.gate_count * self.units
        self._add("kernel", (int(input_shape[-1]), gates), self.kernel_initializer)
        self._add("recurrent_kernel", (self.units, gates), self.recurrent_initializer)
        if self.use_bias:
            self._add("bias", self._bias_shape(), self._bias_initializer())
        else:
            self.bias = None
        self.built = True

    def _add(self, name, shape, initializer):
        regularizer, constraint = self._weight_options[name]
        self.add_weight(shape=shape, initializer=initializer, regularizer=regularizer,
                        constraint=constraint, name=name)

    def _bias_shape(self):
        return (self.gate_count * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    # ---- dropout masks (Keras' DropoutRNNCell) -----------------------------------------------
    def _dropout_mask_count(self):
        """None: one mask for the whole projection; n: one mask per gate (Keras' impl. 1)."""
        return None

    def _make_masks(self, like, rate):
        count = self._dropout_mask_count()

        def one():
            kwargs = {} if self._generator is None else {"generator": self._generator}
            keep = ember.rand(*like.shape, dtype=like.dtype, **kwargs) >= rate
            return keep.to(like.dtype) / (1.0 - rate)
        return one() if count is None else [one() for _ in range(count)]

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._make_masks(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._make_masks(step_input, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self.__dict__["_dropout_mask"] = None

    def reset_recurrent_dropout_mask(self):
        self.__dict__["_recurrent_dropout_mask"] = None

    def _masks(self, inputs, h_tm1, training):
        """(input masks, recurrent masks) for this step: None unless training with dropout."""
        training = self.training if training is None else bool(training)
        if not training:
            return None, None
        dp = self.get_dropout_mask(inputs) if 0.0 < self.dropout < 1.0 else None
        rec = (self.get_recurrent_dropout_mask(h_tm1) if 0.0 < self.recurrent_dropout < 1.0
               else None)
        return dp, rec

    # ---- the fused path ----------------------------------------------------------------------
    def fused_weights(self):
        """(mode, weight_ih, weight_hh, bias_ih, bias_hh) for ops.rnn.rnn_layer (PyTorch
        layout, differentiable views of the Keras weights), or None when the fused kernel
        cannot compute this cell (activations it lacks, reset_after=False)."""
        return None

    def get_initial_state(self, batch_size=None):
        dtype = self.kernel.dtype if self.built else ember.float32
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ember.zeros(batch_size, size, dtype=dtype) for size in sizes]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


_BASE_ARGUMENTS = tuple(inspect.signature(RNNCellBase.__init__).parameters)[1:-1]


def _base_arguments(arguments: dict) -> dict:
    """RNNCellBase's arguments out of a subclass's ``locals()`` (its own extras left out)."""
    return {**{name: arguments[name] for name in _BASE_ARGUMENTS}, **arguments["kwargs"]}


class SimpleRNNCell(RNNCellBase):
    """``output = activation(inputs @ kernel + bias + states[0] @ recurrent_kernel)``."""

    def call(self, sequence, states, training=None):
        prev_output = _first_state(states)
        dp_mask, rec_mask = self._masks(sequence, prev_output, training)
        h = _project(sequence, self.kernel, dp_mask)
        if self.bias is not None:
            h = h + self.bias
        output = self.activation(h + _project(prev_output, self.recurrent_kernel, rec_mask))
        return output, ([output] if isinstance(states, (list, tuple)) else output)

    def fused_weights(self):
        modes = {activations.tanh: "rnn_tanh", activations.relu: "rnn_relu"}
        mode = modes.get(self.activation)
        if mode is None:
            return None
        return mode, self.kernel.t(), self.recurrent_kernel.t(), self.bias, None


class LSTMCell(RNNCellBase):
    """One LSTM step; gate blocks i, f, c, o; states [h, c]. ``unit_forget_bias`` starts the
    forget-gate bias at one."""

    gate_count = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**_base_arguments(locals()))
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        self.state_size = [self.units, self.units]

    def _dropout_mask_count(self):
        return 4 if self.implementation == 1 else None

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer

        def bias_initializer(shape, dtype=None):
            # Keras: bias_initializer for i, ones for the forget gate, bias_initializer for c, o.
            units = self.units
            parts = [self.bias_initializer((units,)), initializers.Ones()((units,)),
                     self.bias_initializer((2 * units,))]
            return ember.cat([p if isinstance(p, ember.Tensor) else ember.tensor(p)
                              for p in parts])
        return bias_initializer

    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        dp_mask, rec_mask = self._masks(inputs, h_tm1, training)
        z = _project(inputs, self.kernel, dp_mask) + _project(h_tm1, self.recurrent_kernel,
                                                             rec_mask)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ember.split(z, self.units, dim=1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def fused_weights(self):
        if self.activation is not activations.tanh or \
                self.recurrent_activation is not activations.sigmoid:
            return None
        # Keras' gate order i, f, c, o is PyTorch's i, f, g, o.
        return "lstm", self.kernel.t(), self.recurrent_kernel.t(), self.bias, None

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(RNNCellBase):
    """One GRU step; gate blocks z, r, h. With ``reset_after`` (Keras' default) the bias is
    (2, 3*units), input bias then recurrent bias, and the reset gate multiplies the recurrent
    projection; without it the bias is (3*units,) and the reset gate multiplies the state."""

    gate_count = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**_base_arguments(locals()))
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation

    def _dropout_mask_count(self):
        return 3 if self.implementation == 1 else None

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h_tm1 = _first_state(states)
        units = self.units
        dp_mask, rec_mask = self._masks(inputs, h_tm1, training)
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = ((self.bias[0], self.bias[1]) if self.reset_after
                                          else (self.bias, None))
        x = _project(inputs, self.kernel, dp_mask)
        if input_bias is not None:
            x = x + input_bias
        x_z, x_r, x_h = ember.split(x, units, dim=1)
        rec_masks = rec_mask if isinstance(rec_mask, list) else [rec_mask] * 3
        h_z, h_r, h_h = (h_tm1 if m is None else h_tm1 * m for m in rec_masks)
        k_z, k_r, k_h = ember.split(self.recurrent_kernel, units, dim=1)
        rec_z, rec_r = ember.matmul(h_z, k_z), ember.matmul(h_r, k_r)
        if recurrent_bias is not None:
            rec_z, rec_r = rec_z + recurrent_bias[:units], rec_r + recurrent_bias[units:2 * units]
        z = self.recurrent_activation(x_z + rec_z)
        r = self.recurrent_activation(x_r + rec_r)
        if self.reset_after:
            rec_h = ember.matmul(h_h, k_h)
            if recurrent_bias is not None:
                rec_h = rec_h + recurrent_bias[2 * units:]
            rec_h = r * rec_h
        else:
            rec_h = ember.matmul(r * h_h, k_h)
        hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1.0 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def fused_weights(self):
        if not self.reset_after or self.activation is not activations.tanh or \
                self.recurrent_activation is not activations.sigmoid:
            return None

        def torch_order(array):  # Keras blocks z, r, h -> PyTorch r, z, n (last axis)
            z, r, h = ember.split(array, self.units, dim=-1)
            return ember.cat([r, z, h], dim=-1)
        w_ih = torch_order(self.kernel).t()
        w_hh = torch_order(self.recurrent_kernel).t()
        if self.bias is None:
            return "gru", w_ih, w_hh, None, None
        bias = torch_order(self.bias)
        return "gru", w_ih, w_hh, bias[0], bias[1]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config
