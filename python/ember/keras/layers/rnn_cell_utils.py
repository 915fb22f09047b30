"""What keras.layers.RNN and StackedRNNCells ask of any cell, built-in or user-defined: Keras'
rules for its output size, its initial states and whether its call takes ``training``."""
from __future__ import annotations

import functools
import inspect

import ember
from .layer import Layer


def cell_output_size(cell):
    """``output_size`` if the cell has one, else its (first) state size."""
    if getattr(cell, "output_size", None) is not None:
        return cell.output_size
    size = cell.state_size
    return size[0] if isinstance(size, (list, tuple)) else size


def check_cell(owner, cell):
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{owner}: a cell must have a `call` method. Received: cell={cell!r}")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(f"{owner}: the RNN cell should have a `state_size` attribute (single "
                         "integer or list of integers, one integer per RNN state). Received: "
                         f"cell={cell!r}")


@functools.lru_cache(maxsize=None)
def _call_parameters(cell_type) -> frozenset:
    try:
        return frozenset(inspect.signature(cell_type.call).parameters)
    except (TypeError, ValueError):
        return frozenset()


def call_cell(cell, inputs, states, training):
    """cell(inputs, states[, training]): ``training`` only reaches cells whose call takes it
    (Keras' ``_call_has_training_arg``); Layer cells go through __call__ (build, hooks)."""
    fn = cell if isinstance(cell, Layer) else cell.call
    if "training" in _call_parameters(type(cell)):
        return fn(inputs, states, training=training)
    return fn(inputs, states)


def initial_states_of(cell, batch_size):
    """The cell's ``get_initial_state(batch_size=...)``, else float32 zeros of (batch, size): a
    tensor for an integer ``state_size``, a list for a list of sizes. (RNN casts them to the
    inputs' dtype, as Keras casts them to the compute dtype.)"""
    get_initial_state = getattr(cell, "get_initial_state", None)
    if get_initial_state is not None:
        return get_initial_state(batch_size=batch_size)
    size = cell.state_size
    if isinstance(size, (list, tuple)):
        return [ember.zeros(batch_size, s) for s in size]
    return ember.zeros(batch_size, size)
