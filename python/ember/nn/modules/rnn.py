"""Recurrent layers RNN, LSTM and GRU and their one-step cells, with PyTorch's parameter names,
layouts, registration order, initialisation, shapes, reprs and error messages, so PyTorch
state_dicts load unchanged.

Every (layer, direction) of a sequence layer is one call of the fused kernel
``ember.ops.rnn.rnn_layer`` over the whole sequence; Python only loops over layers and
directions, never over time steps.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import _core
from ..._bounds import MAX_LAYERS, PARAMETER_OVERHEAD, check_alloc, empty_parameter
from ...dtypes import to_numpy_dtype
from ...functions import cat, stack
from ...ops.rnn import rnn_layer
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pad_packed_sequence, packed_data
from .utils import _check_device, _is_int

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

# PyTorch's mode names -> (gates per hidden unit, rnn_layer's mode, name in messages)
_MODES = {"RNN_TANH": (1, "rnn_tanh", "RNN"), "RNN_RELU": (1, "rnn_relu", "RNN"),
          "LSTM": (4, "lstm", "LSTM"), "GRU": (3, "gru", "GRU")}


def _check_size(cls_name: str, name: str, value) -> int:
    if not _is_int(value):
        raise TypeError(f"{cls_name}: {name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{cls_name}: {name} must be greater than zero. "
                         f"Received: {name}={value!r}")
    return int(value)


def _check_parameter_memory(cls_name, gates, input_size, hidden_size, num_layers,
                            num_directions, bias, itemsize) -> None:
    """Refuses, before the first parameter, layers whose parameters cannot fit in memory (the
    construction loop would otherwise run for hours, or until MemoryError)."""
    if num_layers > MAX_LAYERS:
        raise ValueError(f"{cls_name}: num_layers={num_layers} is more than ember builds "
                         f"(at most {MAX_LAYERS} layers)")
    rows, extra = gates * hidden_size, 2 if bias else 0
    first = rows * (input_size + hidden_size + extra)
    later = rows * (hidden_size * num_directions + hidden_size + extra)
    elements = num_directions * (first + (num_layers - 1) * later)
    count = num_layers * num_directions * (4 if bias else 2)
    check_alloc(cls_name, (elements * itemsize + count * PARAMETER_OVERHEAD,), 1,
                what=f"its parameters (num_layers={num_layers})", show_shape=False)


def _check_bool(cls_name: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{cls_name}: {name} should be of type bool, got: {type(value).__name__}")
    return bool(value)


def _check_tensor(op: str, name: str, value) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be an ember.Tensor, got {type(value).__name__}")
    return value


def _new_parameter(shape, np_dtype) -> Parameter:
    return Parameter(empty_parameter("recurrent layer", shape, np_dtype))


def _zeros(shape, np_dtype) -> Tensor:
    return Tensor._from_op(np.zeros(shape, dtype=np_dtype), None)


def _uniform_reset(module) -> None:
    """PyTorch's default for every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


def _check_dtype(op: str, what: str, tensor: Tensor, weight: Tensor) -> None:
    if tensor.dtype != weight.dtype:
        raise ValueError(f"{op} {what} dtype ({tensor.dtype}) does not match weight dtype "
                         f"({weight.dtype}). Convert {what}: {what}.to({weight.dtype}), or "
                         f"convert model: model.to({tensor.dtype})")


class RNNBase(Module):
    """Shared construction, parameters and forward pass of RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gates, _, name = _MODES[mode]
        _check_device(name, device)
        input_size = _check_size(name, "input_size", input_size)
        hidden_size = _check_size(name, "hidden_size", hidden_size)
        num_layers = _check_size(name, "num_layers", num_layers)
        bias = _check_bool(name, "bias", bias)
        batch_first = _check_bool(name, "batch_first", batch_first)
        bidirectional = _check_bool(name, "bidirectional", bidirectional)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             "the probability of an element being zeroed. "
                             f"Received: dropout={dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not _is_int(proj_size) or proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                             f"projections. Received: proj_size={proj_size!r}")
        if proj_size != 0:
            raise NotImplementedError(f"{name}: proj_size > 0 (LSTM with projections) is not "
                                      "supported by ember")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        num_directions = 2 if bidirectional else 1
        _check_parameter_memory(name, gates, input_size, hidden_size, num_layers,
                                num_directions, bias, np_dtype.itemsize)
        self._flat_weights_names = []
        self._all_weights = []
        # Registration order is PyTorch's (layer-major, direction-minor; w_ih, w_hh, b_ih,
        # b_hh), so state_dict keys come out in the same order.
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gates * hidden_size, layer_input_size)),
                          ("weight_hh", (gates * hidden_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates * hidden_size,)),
                               ("bias_hh", (gates * hidden_size,))]
                names = []
                for prefix, shape in shapes:
                    param_name = f"{prefix}_l{layer}{suffix}"
                    setattr(self, param_name, _new_parameter(shape, np_dtype))
                    names.append(param_name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self)

    def flatten_parameters(self) -> None:
        """A no-op, as in PyTorch on the CPU (there it compacts weights for cuDNN)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, index: int) -> tuple:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of flat (layer, direction) index."""
        params = [getattr(self, name) for name in self._all_weights[index]]
        return tuple(params) if self.bias else (params[0], params[1], None, None)

    @property
    def _name(self) -> str:
        return _MODES[self.mode][2]

    # ---- forward -----------------------------------------------------------------------------
    def _check_input(self, input) -> None:
        name = self._name
        _check_tensor(name, "input", input)
        if input.dim() not in (2, 3):
            raise _core.ShapeError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                                   f"tensor instead (input shape {tuple(input.shape)})")

    def _check_state(self, what: str, state: Tensor, expected: tuple, message: str) -> None:
        _check_tensor(self._name, what, state)
        if tuple(state.shape) != expected:
            raise _core.ShapeError(f"{self._name}: " + message.format(expected, list(state.shape)))
        _check_dtype(self._name, what, state, self.weight_ih_l0)

    def _state_tuple(self, hx) -> tuple:
        """hx as a tuple of tensors: (h_0,) for RNN/GRU, (h_0, c_0) for LSTM."""
        if self.mode != "LSTM":
            return (_check_tensor(self._name, "hx", hx),)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        return tuple(_check_tensor("LSTM", f"hx[{i}]", s) for i, s in enumerate(hx))

    def forward(self, input, hx=None):
        """input (T, B, input_size) (or (B, T, input_size) with batch_first, or unbatched
        (T, input_size)); returns output, h_n for RNN/GRU and output, (h_n, c_n) for LSTM."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name, is_lstm = self._name, self.mode == "LSTM"
        self._check_input(input)
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        states = None if hx is None else self._state_tuple(hx)
        if states is not None:
            want = 3 if is_batched else 2
            if any(s.dim() != want for s in states):
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                if is_lstm:
                    got = f"({states[0].dim()}-D, {states[1].dim()}-D) tensors"
                    raise _core.ShapeError(f"LSTM: For {kind} input, hx and cx should also be "
                                           f"{want}-D but got {got}")
                raise _core.ShapeError(f"{name}: For {kind} input, hx should also be {want}-D "
                                       f"but got {states[0].dim()}-D tensor")
        if not is_batched:
            input = input.unsqueeze(batch_dim)
            if states is not None:
                states = tuple(s.unsqueeze(1) for s in states)
        weight = self.weight_ih_l0
        _check_dtype(name, "input", input, weight)
        if input.shape[-1] != self.input_size:
            raise _core.ShapeError(f"{name}: input.size(-1) must be equal to input_size. "
                                   f"Expected {self.input_size}, got {input.shape[-1]}")
        x = input  # the kernels read either layout: no transposed copies
        steps, batch = (x.shape[1], x.shape[0]) if self.batch_first else (x.shape[0], x.shape[1])
        if steps == 0:
            raise _core.ShapeError(f"{name}: Expected sequence length to be larger than 0 in RNN "
                                   f"(input shape {tuple(input.shape)})")
        num_directions = 2 if self.bidirectional else 1
        self._check_states(states, batch, num_directions)
        output, h_n, c_n = self._run(x, states, batch, num_directions)
        if not is_batched:
            output = output.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)

    def _check_states(self, states, batch, num_directions) -> None:
        expected = (self.num_layers * num_directions, batch, self.hidden_size)
        if states is None:
            return
        if self.mode == "LSTM":
            for i in (0, 1):
                self._check_state(f"hx[{i}]", states[i], expected,
                                  f"Expected hidden[{i}] size {{}}, got {{}}")
        else:
            self._check_state("hx", states[0], expected, "Expected hidden size {}, got {}")

    def _forward_packed(self, packed, hx):
        """PackedSequence input: the layers run over the padded batch (in the caller's order, so
        hx and h_n need no permuting) with a mask that skips each sequence's steps past its
        length. Forward directions then end with the state of each sequence's own last step,
        reverse ones start at it, as PyTorch's packed kernels do; output is packed again."""
        name = self._name
        _check_tensor(name, "input.data", packed.data)
        _check_dtype(name, "input", packed.data, self.weight_ih_l0)
        if packed.data.dim() != 2 or packed.data.shape[1] != self.input_size:
            raise _core.ShapeError(f"{name}: packed input data must have shape (steps, "
                                   f"{self.input_size}), got {tuple(packed.data.shape)}")
        x, lengths = pad_packed_sequence(packed, batch_first=self.batch_first)
        batch = x.shape[0 if self.batch_first else 1]
        steps = x.shape[1 if self.batch_first else 0]
        mask = np.arange(steps)[:, None] < lengths._array[None, :]
        states = None if hx is None else self._state_tuple(hx)
        num_directions = 2 if self.bidirectional else 1
        self._check_states(states, batch, num_directions)
        output, h_n, c_n = self._run(x, states, batch, num_directions, mask)
        order = None if packed.sorted_indices is None else packed.sorted_indices._array
        data = packed_data(output, packed.batch_sizes._array, order, self.batch_first)
        output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                packed.unsorted_indices)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _run(self, x, states, batch, num_directions, mask=None):
        """The stacked layers over x (T, B, I), or (B, T, I) when batch_first; returns output
        (T, B, D*H) or (B, T, D*H), h_n and c_n. mask (T, B): False skips a sample's step."""
        is_lstm = self.mode == "LSTM"
        kernel_mode = _MODES[self.mode][1]
        zeros = None
        if states is None:
            zeros = _zeros((batch, self.hidden_size), self.weight_ih_l0._array.dtype)
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                h0 = zeros if states is None else states[0][index]
                c0 = None if not is_lstm else (zeros if states is None else states[1][index])
                out, h, c = rnn_layer(x, h0, c0, *self._layer_weights(index), mode=kernel_mode,
                                       reverse=direction == 1, batch_first=self.batch_first,
                                       mask=mask)
                outputs.append(out)
                finals_h.append(h)
                finals_c.append(c)
            x = outputs[0] if num_directions == 1 else cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        h_n = stack(finals_h, 0)
        c_n = stack(finals_c, 0) if is_lstm else None
        return x, h_n, c_n

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


def _reject_proj_size(cls_name: str, kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{cls_name}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 **kwargs):
        _reject_proj_size("RNN", kwargs)
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates (i, f, g, o) stacked in that order in each weight."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates (r, z, n), reset gate applied after the hidden product."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **kwargs):
        _reject_proj_size("GRU", kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


# ---- cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Shared parameters (weight_ih, weight_hh, bias_ih, bias_hh) of the one-step cells."""

    _mode = ""  # rnn_layer's mode, set by the subclasses

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_device(name, device)
        self.input_size = _check_size(name, "input_size", input_size)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        self.bias = _check_bool(name, "bias", bias)
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        self.weight_ih = _new_parameter((num_chunks * hidden_size, input_size), np_dtype)
        self.weight_hh = _new_parameter((num_chunks * hidden_size, hidden_size), np_dtype)
        if bias:
            self.bias_ih = _new_parameter((num_chunks * hidden_size,), np_dtype)
            self.bias_hh = _new_parameter((num_chunks * hidden_size,), np_dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _check_input(self, input) -> bool:
        """Validates input; returns whether it is batched (2-D)."""
        name = type(self).__name__
        _check_tensor(name, "input", input)
        if input.dim() not in (1, 2):
            raise _core.ShapeError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                                   "instead")
        _check_dtype(name, "input", input, self.weight_ih)
        if input.shape[-1] != self.input_size:
            raise _core.ShapeError(f"{name}: input has inconsistent input_size: got "
                                   f"{input.shape[-1]} expected {self.input_size}")
        return input.dim() == 2

    def _check_hidden(self, what: str, label: str, state, is_batched: bool, batch: int):
        """Validates one state tensor; returns it as (B, H)."""
        name = type(self).__name__
        _check_tensor(name, what, state)
        if state.dim() not in (1, 2):
            raise _core.ShapeError(f"{name}: Expected {what} to be 1D or 2D, got {state.dim()}D "
                                   "instead")
        if state.dim() != (2 if is_batched else 1):
            raise _core.ShapeError(f"{name}: {what} must be {2 if is_batched else 1}-D for "
                                   f"{2 if is_batched else 1}-D input, got shape "
                                   f"{list(state.shape)}")
        state = state if is_batched else state.unsqueeze(0)
        if state.shape[0] != batch:
            raise _core.ShapeError(f"{name}: Input batch size {batch} doesn't match {label} "
                                   f"batch size {state.shape[0]}")
        if state.shape[1] != self.hidden_size:
            raise _core.ShapeError(f"{name}: {label} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
        _check_dtype(name, what, state, self.weight_ih)
        return state

    def _step(self, input, h0, c0):
        """One time step through the sequence kernel with T = 1; returns (h, c)."""
        _, h, c = rnn_layer(input.unsqueeze(0), h0, c0, self.weight_ih, self.weight_hh,
                             self.bias_ih, self.bias_hh, mode=self._mode)
        return h, c

    def forward(self, input, hx=None):
        """One step of a single-state cell (RNNCell, GRUCell); LSTMCell has its own."""
        is_batched = self._check_input(input)
        x = input if is_batched else input.unsqueeze(0)
        if hx is None:
            hx = _zeros((x.shape[0], self.hidden_size), self.weight_ih._array.dtype)
        else:
            hx = self._check_hidden("hidden", "hidden0", hx, is_batched, x.shape[0])
        h, _ = self._step(x, hx, None)
        return h if is_batched else h.squeeze(0)


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from "
                             "'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self):
        return "rnn_tanh" if self.nonlinearity == "tanh" else "rnn_relu"


class GRUCell(RNNCellBase):
    """r, z, n gates; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) n + z h."""

    _mode = "gru"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)


class LSTMCell(RNNCellBase):
    """i, f, g, o gates; c' = f c + i g; h' = o tanh(c'). Returns (h', c')."""

    _mode = "lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        is_batched = self._check_input(input)
        x = input if is_batched else input.unsqueeze(0)
        if hx is None:
            zeros = _zeros((x.shape[0], self.hidden_size), self.weight_ih._array.dtype)
            h0, c0 = zeros, zeros
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h_0, c_0)")
            h0 = self._check_hidden("hx[0]", "hidden0", hx[0], is_batched, x.shape[0])
            c0 = self._check_hidden("hx[1]", "hidden1", hx[1], is_batched, x.shape[0])
        h, c = self._step(x, h0, c0)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))
