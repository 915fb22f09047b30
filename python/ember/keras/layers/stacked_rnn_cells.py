"""keras.layers.StackedRNNCells: several RNN cells run as one, each feeding the next."""
from __future__ import annotations

from .layer import Layer
from .rnn_cell_utils import call_cell, cell_output_size, check_cell, initial_states_of


class StackedRNNCells(Layer):
    """Wraps a list of cells; ``state_size`` is the list of theirs, ``output_size`` the last's."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells: cells must be a non-empty list of RNN cells.")
        for i, cell in enumerate(cells):
            check_cell("StackedRNNCells", cell)
            if isinstance(cell, Layer):
                self.add_module(f"cell_{i}", cell)  # tracked: weights, train()/eval(), double()
        self.__dict__["cells"] = cells

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        return [initial_states_of(cell, batch_size) for cell in self.cells]

    def build(self, input_shape):
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(tuple(input_shape))
                cell.built = True
            input_shape = (batch, cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = isinstance(cell_states, (list, tuple))
            inputs, cell_states = call_cell(cell, inputs,
                                            list(cell_states) if is_list else [cell_states],
                                            training)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(list(cell_states) if is_list or len(cell_states) > 1
                              else cell_states[0])
        return inputs, new_states

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_size)

    def get_config(self):
        return {**super().get_config(),
                "cells": [{"class_name": type(c).__name__, "config": c.get_config()}
                          for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize_layer  # ember's own layer classes only
        config = dict(config)
        config["cells"] = [deserialize_layer(spec) for spec in config["cells"]]
        return cls(**config)
