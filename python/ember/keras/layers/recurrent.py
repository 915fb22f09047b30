"""The shared base of keras.layers.SimpleRNN, LSTM and GRU: one ember.ops.rnn.rnn_layer call.

Inputs are Keras' (batch, time, features). The weights are ember Parameters in PyTorch layout
and gate order (``weight_ih`` (G*units, features), ``weight_hh`` (G*units, units), ``bias``) so
the fused kernel runs them directly; ``get_weights()``/``set_weights()`` convert to Keras'
kernel (features, G*units), recurrent_kernel (units, G*units) and bias, gate blocks reordered
where Keras' order differs (GRU).

Keras semantics kept: ``go_backwards`` returns the sequence in processing (reversed) order;
masked steps carry the state over and output the previous output (or zeros with
``zero_output_for_mask``, which Bidirectional turns on when returning sequences);
``dropout`` multiplies the inputs by one mask per sequence, the same at every step.
"""
from __future__ import annotations

import numbers

import numpy as np

import ember
from .. import activations, constraints, initializers, regularizers
from ..seeds import seeded_generator
from .dense import _as_numpy
from .layer import Layer, weight_options_config

_INITIALIZER_ARGS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def _check_fraction(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: {name} must be a float between 0 and 1. Received: "
                         f"{name}={value!r}")
    return min(1.0, max(0.0, float(value)))  # Keras clips the rate into [0, 1]


def permute_gate_blocks(array: np.ndarray, order, axis: int = -1) -> np.ndarray:
    """The gate blocks of ``array`` along ``axis`` (equal parts) taken in ``order``."""
    blocks = np.split(array, len(order), axis=axis)
    return np.concatenate([blocks[i] for i in order], axis=axis)


def as_mask_array(mask, batch: int, steps: int, owner) -> np.ndarray:
    """A (batch, time) bool NumPy array from a Keras mask (Tensor or array-like)."""
    arr = mask.numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.shape != (batch, steps):
        raise ember.ShapeError(f'{owner}: the mask must have shape (batch, timesteps) = '
                               f"{(batch, steps)}. Received: mask.shape={arr.shape}")
    return arr.astype(bool)


def zero_until_started(outputs, time_mask: np.ndarray):
    """Keras outputs zeros until a sample's first unmasked step (the output carried over
    masked steps starts as zeros); ember's kernel repeats the initial state there.
    ``outputs`` (batch, time, units) and ``time_mask`` (batch, time) in processing order."""
    started = np.logical_or.accumulate(time_mask, axis=1)
    if started.all():
        return outputs
    return outputs * ember.from_numpy(started[..., None].astype(outputs.dtype.numpy))


class RecurrentBase(Layer):
    """A Keras recurrent layer of ``units`` units over (batch, time, features) inputs.

    Subclasses set ``gate_count`` (G), ``keras_gate_order`` (Keras' gate block for each of
    PyTorch's blocks), ``state_count`` and implement ``_mode()``, ``_initial_bias(...)``.
    """

    gate_count = 1
    keras_gate_order = (0,)
    state_count = 1

    def __init__(self, units, activation="tanh", recurrent_activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 use_cudnn="auto", **kwargs):
        owner = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"{owner}: received an invalid value for argument `units`, "
                             f"expected a positive integer. Received: units={units!r}")
        self.dropout = _check_fraction(owner, "dropout", dropout)
        self.recurrent_dropout = _check_fraction(owner, "recurrent_dropout", recurrent_dropout)
        if self.recurrent_dropout > 0.0:
            raise NotImplementedError(
                f"{owner}: recurrent_dropout > 0 is not supported by ember (its fused kernel "
                "has no per-step mask on the recurrent state). Received: recurrent_dropout="
                f"{recurrent_dropout}. Use dropout= (on the inputs) or a Dropout layer.")
        if stateful:
            raise NotImplementedError(f"{owner}: stateful=True is not supported by ember")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"{owner}: use_cudnn must be 'auto', True or False. Received: "
                             f"use_cudnn={use_cudnn!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = (None if recurrent_activation is None
                                     else activations.get(recurrent_activation))
        self._check_activations()
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        for weight, regularizer, constraint in (
                ("kernel", kernel_regularizer, kernel_constraint),
                ("recurrent", recurrent_regularizer, recurrent_constraint),
                ("bias", bias_regularizer, bias_constraint)):
            setattr(self, f"{weight}_regularizer", regularizers.get(regularizer))
            setattr(self, f"{weight}_constraint", constraints.get(constraint))
        self.seed = seed
        self._generator = seeded_generator(seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)  # the fused kernel gives the same results either way
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.use_cudnn = use_cudnn
        self.input_dim = None

    # ---- what subclasses define --------------------------------------------------------------
    def _check_activations(self):
        raise NotImplementedError

    def _mode(self) -> str:
        raise NotImplementedError

    def _initial_bias(self) -> np.ndarray:
        """The bias in Keras layout and gate order."""
        return _as_numpy(self.bias_initializer((self.gate_count * self.units,)))

    def _require(self, arg, value, allowed):
        if value not in allowed:
            names = " or ".join(f'"{activations.serialize(a)}"' for a in allowed)
            raise NotImplementedError(
                f"{type(self).__name__}: {arg}={activations.serialize(value)!r} is not "
                f"supported by ember's fused kernel; {arg} must be {names}.")

    # ---- weights -----------------------------------------------------------------------------
    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             "expected ndim=3 (batch, timesteps, features) with known "
                             f"features, found ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}")
        self.input_dim = int(input_shape[-1])
        gates = self.gate_count * self.units
        self._add_weight("weight_ih", (self.input_dim, gates), self.kernel_initializer,
                         regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                         name="kernel")
        self._add_weight("weight_hh", (self.units, gates), self.recurrent_initializer,
                         regularizer=self.recurrent_regularizer,
                         constraint=self.recurrent_constraint, name="recurrent_kernel")
        if self.use_bias:
            bias = self._initial_bias()
            self._add_weight("bias", bias.shape, lambda shape: bias,
                             regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                             name="bias")
        else:
            self.bias = None
        self.built = True

    def _to_keras_layout(self, attr_name, array):
        # PyTorch block j is Keras block keras_gate_order[j]; invert that permutation.
        inverse = np.argsort(self.keras_gate_order)
        if attr_name in ("weight_ih", "weight_hh"):
            return permute_gate_blocks(array.T, inverse)
        return permute_gate_blocks(array, inverse)

    def _from_keras_layout(self, attr_name, array):
        if attr_name in ("weight_ih", "weight_hh"):
            return permute_gate_blocks(array, self.keras_gate_order).T
        return permute_gate_blocks(array, self.keras_gate_order)

    def _keras_view(self, attr_name, param):
        # The same permutation as _to_keras_layout, on a differentiable Tensor.
        array = param.T if attr_name in ("weight_ih", "weight_hh") else param
        inverse = np.argsort(self.keras_gate_order)
        size = array.shape[-1] // len(inverse)
        return ember.cat([array[..., int(i) * size:(int(i) + 1) * size] for i in inverse],
                         dim=-1)

    def _biases(self):
        """(bias_ih, bias_hh) for rnn_layer: Keras' single bias is b_ih (b_hh = None)."""
        return self.bias, None

    # ---- call --------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        from ...ops.rnn import rnn_layer

        if sequences.dim() != 3 or sequences.shape[-1] != self.input_dim:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected shape (batch, timesteps, {self.input_dim}), found "
                             f"shape {tuple(sequences.shape)}")
        batch, steps = sequences.shape[0], sequences.shape[1]
        training = self.training if training is None else bool(training)
        if training and 0.0 < self.dropout < 1.0:
            sequences = sequences * self._dropout_mask(batch)
        states = self._initial_states(initial_state, batch)
        time_mask = None if mask is None else as_mask_array(mask, batch, steps, self.name)
        bias_ih, bias_hh = self._biases()
        outputs, h_n, c_n = rnn_layer(
            sequences, states[0], states[1] if self.state_count == 2 else None,
            self.weight_ih, self.weight_hh, bias_ih, bias_hh, mode=self._mode(),
            reverse=self.go_backwards, mask=None if time_mask is None else time_mask.T,
            batch_first=True)
        if self.return_sequences:
            output = outputs  # (batch, time, units), aligned with the inputs
            if self.zero_output_for_mask and time_mask is not None:
                output = output * ember.from_numpy(time_mask[..., None].astype(np.float32))
            if self.go_backwards:
                output = output[:, ::-1]  # Keras: in processing order
            if time_mask is not None:
                output = zero_until_started(
                    output, time_mask[:, ::-1] if self.go_backwards else time_mask)
        else:
            output = h_n  # the last processed step's output (masked steps carry it over)
            if self.zero_output_for_mask and time_mask is not None:
                last = time_mask[:, 0 if self.go_backwards else -1]
                output = output * ember.from_numpy(last[:, None].astype(np.float32))
            elif time_mask is not None and not time_mask.any(axis=1).all():
                # a sample with every step masked outputs zeros (its state stays h0)
                output = output * ember.from_numpy(time_mask.any(axis=1)[:, None].astype(
                    output.dtype.numpy))
        if self.return_state:
            return (output, h_n) if self.state_count == 1 else (output, h_n, c_n)
        return output

    def _dropout_mask(self, batch):
        """Keras: one (batch, 1, features) mask of kept/(1 - rate) values for all steps."""
        kwargs = {} if self._generator is None else {"generator": self._generator}
        keep = ember.rand(batch, 1, self.input_dim, **kwargs).numpy() >= self.dropout
        return ember.from_numpy((keep / (1.0 - self.dropout)).astype(np.float32))

    def _initial_states(self, initial_state, batch):
        owner = f'{type(self).__name__} "{self.name}"'
        if initial_state is None:
            return [ember.zeros(batch, self.units) for _ in range(self.state_count)]
        if isinstance(initial_state, (list, tuple)):
            states = list(initial_state)
        else:
            states = [initial_state]
        if len(states) != self.state_count:
            raise ValueError(f"{owner}: initial_state must be a list of {self.state_count} "
                             f"tensor(s) ({'[h, c]' if self.state_count == 2 else '[h]'}). "
                             f"Received: {len(states)} tensor(s)")
        out = []
        for state in states:
            state = state if isinstance(state, ember.Tensor) else ember.from_numpy(
                np.ascontiguousarray(state, dtype=np.float32))
            if tuple(state.shape) != (batch, self.units):
                raise ember.ShapeError(f"{owner}: each initial state must have shape (batch, "
                                       f"units) = {(batch, self.units)}. Received: "
                                       f"{tuple(state.shape)}")
            out.append(state)
        return out

    # ---- shapes, masks and config ------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return (output,) + ((batch, self.units),) * self.state_count
        return output

    def compute_mask(self, inputs, mask):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self.state_count
        return output_mask

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation)}
        if self.recurrent_activation is not None:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config.update({"use_bias": self.use_bias})
        config.update({arg: initializers.serialize(getattr(self, arg))
                       for arg in _INITIALIZER_ARGS})
        config.update(weight_options_config(self, "kernel", "recurrent", "bias"))
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                       "seed": self.seed, "return_sequences": self.return_sequences,
                       "return_state": self.return_state, "go_backwards": self.go_backwards,
                       "stateful": self.stateful, "unroll": self.unroll,
                       "zero_output_for_mask": self.zero_output_for_mask})
        return config

