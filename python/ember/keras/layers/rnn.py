"""keras.layers.RNN: a recurrent layer around any cell (or list of cells).

Built-in cells (SimpleRNNCell, LSTMCell, GRUCell, and StackedRNNCells of them) run on the fused
kernel of the LSTM/GRU/SimpleRNN layers (ember.ops.rnn.rnn_layer, one call per cell) when the
cell's options allow it: activations the kernel has, GRU ``reset_after=True``, no recurrent
dropout while training, no hooks on the cell. Any other cell, including a user-defined one
(``state_size``, optional ``output_size``, ``build``, ``call(inputs, states, training=None)``
returning ``(output, new_states)``), runs step by step as Keras' ``backend.rnn`` does.

Keras semantics kept: ``go_backwards`` returns the sequence in processing (reversed) order;
masked steps carry the states over and output the previous output (or zeros with
``zero_output_for_mask``); ``return_state`` returns ``output, *states``.
"""
from __future__ import annotations

import numpy as np

import ember
from ...ops.rnn import rnn_layer
from .layer import Layer
from .recurrent import as_mask_array, zero_until_started
from .rnn_cell_utils import call_cell, cell_output_size, check_cell, initial_states_of
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells

_FUSABLE_CELLS = (SimpleRNNCell, LSTMCell, GRUCell)


def _flatten(states):
    if isinstance(states, (list, tuple)):
        return [t for s in states for t in _flatten(s)]
    return [states]


def _pack_like(structure, flat):
    """``flat`` (an iterator) in the nesting of ``structure`` (lists of tensors)."""
    if isinstance(structure, (list, tuple)):
        return [_pack_like(s, flat) for s in structure]
    return next(flat)


def _state_sizes(cell):
    """The flat list of state sizes (Keras' ``state_size``, nested for stacked cells)."""
    size = cell.state_size
    return _flatten(list(size)) if isinstance(size, (list, tuple)) else [size]


def _fused_cells(cell):
    """The cells to run on the fused kernel one after another, or None."""
    cells = list(cell.cells) if type(cell) is StackedRNNCells else [cell]
    if any(type(c) not in _FUSABLE_CELLS or c.fused_weights() is None
           or c._forward_hooks or c._forward_pre_hooks for c in cells):
        return None
    return cells


class RNN(Layer):
    """Base class for recurrent layers: ``RNN(cell, return_sequences=False,
    return_state=False, go_backwards=False, stateful=False, unroll=False,
    zero_output_for_mask=False)`` over (batch, timesteps, features) inputs."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell("RNN", cell)
        size = cell.state_size
        if not isinstance(size, (list, tuple, int)):
            raise ValueError("RNN: state_size must be an integer, or a list/tuple of integers "
                             f"(one for each state tensor). Received: state_size={size!r}")
        if stateful:
            raise NotImplementedError("RNN: stateful=True is not supported by ember")
        super().__init__(**kwargs)
        if isinstance(cell, Layer):
            self.cell = cell  # a submodule: its weights are the layer's
        else:
            self.__dict__["cell"] = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)  # either way ember computes the same steps
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.single_state = isinstance(size, int)
        self.state_size = [size] if self.single_state else list(size)

    # ---- build -------------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) != 3:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             "expected ndim=3 (batch, timesteps, features), found ndim="
                             f"{len(sequences_shape)}. Full shape received: "
                             f"{tuple(sequences_shape)}")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))
            self.cell.built = True
        self.built = True

    # ---- call --------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        if sequences.dim() != 3:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             "expected shape (batch, timesteps, features), found shape "
                             f"{tuple(sequences.shape)}")
        batch, steps = sequences.shape[0], sequences.shape[1]
        if steps == 0:
            raise ValueError(f'RNN "{self.name}": the input has no timesteps. Received: input '
                             f"of shape {tuple(sequences.shape)}")
        training = self.training if training is None else bool(training)
        states = self._initial_states(initial_state, batch, sequences.dtype)
        time_mask = None if mask is None else as_mask_array(mask, batch, steps, self.name)
        cells = _fused_cells(self.cell)
        if cells is not None and training and any(
                c.recurrent_dropout > 0 or (c.dropout > 0 and c._dropout_mask_count())
                for c in cells):
            cells = None  # the kernel has no recurrent-state mask, nor one input mask per gate
        self._reset_dropout_masks(self.cell)
        try:
            if cells is not None:
                outputs, last, states = self._run_fused(cells, sequences, states, time_mask,
                                                        training)
            else:
                outputs, last, states = self._run_steps(sequences, states, time_mask, training)
        finally:
            self._reset_dropout_masks(self.cell)
        output = outputs if self.return_sequences else last
        if self.return_state:
            return (output, *states)
        return output

    def get_initial_state(self, batch_size):
        """The cell's initial states for ``batch_size`` samples (zeros unless the cell says
        otherwise), nested as ``state_size``."""
        states = initial_states_of(self.cell, batch_size)
        return list(states) if isinstance(states, (list, tuple)) else [states]

    def _initial_states(self, initial_state, batch, dtype):
        """The states as Keras nests them: a list with one entry per ``state_size`` entry."""
        states = self.get_initial_state(batch) if initial_state is None else initial_state
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        flat, sizes = _flatten(states), _state_sizes(self.cell)
        owner = f'RNN "{self.name}"'
        if len(flat) != len(sizes):
            raise ValueError(f"{owner}: initial_state must hold {len(sizes)} tensor(s), one per "
                             f"state of the cell (state_size={self.cell.state_size}). "
                             f"Received: {len(flat)} tensor(s)")
        converted = []
        for state, size in zip(flat, sizes):
            if not isinstance(state, ember.Tensor):
                state = ember.from_numpy(np.ascontiguousarray(state, dtype=dtype.numpy))
            elif state.dtype != dtype and state.dtype.is_floating_point:
                state = state.to(dtype)  # Keras casts the states to the compute dtype
            if tuple(state.shape) != (batch, size):
                raise ember.ShapeError(f"{owner}: each initial state must have shape (batch, "
                                       f"state_size) = {(batch, size)}. Received: "
                                       f"{tuple(state.shape)}")
            converted.append(state)
        return _pack_like(states, iter(converted))

    def _reset_dropout_masks(self, cell):
        for c in (cell.cells if isinstance(cell, StackedRNNCells) else [cell]):
            if hasattr(c, "reset_dropout_mask"):
                c.reset_dropout_mask()
            if hasattr(c, "reset_recurrent_dropout_mask"):
                c.reset_recurrent_dropout_mask()

    def _run_fused(self, cells, sequences, states, time_mask, training):
        """Each cell over the whole sequence in one kernel call, feeding the next (the same
        numbers as stepping the stack: masked steps are skipped by every cell)."""
        per_cell = states if isinstance(self.cell, StackedRNNCells) else [states]
        mask = None if time_mask is None else time_mask.T
        x, final_states = sequences, []
        for cell, cell_states in zip(cells, per_cell):
            flat = _flatten(cell_states)
            if training and 0.0 < cell.dropout < 1.0:
                # Keras' DropoutRNNCell: one (batch, features) mask for every step.
                x = x * cell.get_dropout_mask(x[:, 0]).unsqueeze(1)
            mode, w_ih, w_hh, b_ih, b_hh = cell.fused_weights()
            x, h_n, c_n = rnn_layer(x, flat[0], flat[1] if mode == "lstm" else None, w_ih,
                                    w_hh, b_ih, b_hh, mode=mode, reverse=self.go_backwards,
                                    mask=mask, batch_first=True)
            new = [h_n, c_n] if mode == "lstm" else [h_n]
            final_states.append(_pack_like(cell_states, iter(new)))
        if self.go_backwards:  # Keras: in processing order
            x = x.flip(1)
            time_mask = None if time_mask is None else time_mask[:, ::-1]
        if time_mask is not None:
            x = zero_until_started(x, time_mask)
        states = final_states if isinstance(self.cell, StackedRNNCells) else final_states[0]
        return self._finish(x, time_mask) + (states,)

    def _run_steps(self, sequences, states, time_mask, training):
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, prev_output = [], None
        for t in order:
            output, new_states = call_cell(self.cell, sequences[:, t], states, training)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            if time_mask is not None:
                keep = ember.from_numpy(time_mask[:, t:t + 1].copy())
                if prev_output is None:
                    prev_output = ember.zeros_like(output)
                output = ember.where(keep, output, prev_output)
                flat = [ember.where(keep, new, old)
                        for new, old in zip(_flatten(new_states), _flatten(states))]
                new_states = _pack_like(states, iter(flat))
            outputs.append(output)
            states, prev_output = list(new_states), output
        stacked = ember.stack(outputs, dim=1)
        if time_mask is not None and self.go_backwards:
            time_mask = time_mask[:, ::-1]
        return self._finish(stacked, time_mask) + (states,)

    def _finish(self, outputs, time_mask):
        """(outputs, last output) from the outputs and mask in processing order, zeroed where
        masked when ``zero_output_for_mask``."""
        if self.zero_output_for_mask and time_mask is not None:
            outputs = outputs * ember.from_numpy(
                np.ascontiguousarray(time_mask[..., None]).astype(outputs.dtype.numpy))
        return outputs, outputs[:, -1]

    # ---- shapes, masks and config ------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        output_size = cell_output_size(self.cell)
        output = (batch, steps, output_size) if self.return_sequences else (batch, output_size)
        if not self.return_state:
            return output
        states = [[(batch, s) for s in size] if isinstance(size, (list, tuple))
                  else (batch, size) for size in self.state_size]
        return (output, *states)

    def compute_mask(self, inputs, mask):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def get_config(self):
        if not isinstance(self.cell, Layer):
            raise NotImplementedError(f'RNN "{self.name}": get_config needs the cell to be a '
                                      "keras.layers.Layer with a get_config().")
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": {"class_name": type(self.cell).__name__,
                         "config": self.cell.get_config()}}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize_layer  # ember's own layer classes only
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"))
        return cls(cell, **config)
