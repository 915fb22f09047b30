"""Where each of a model's weights lives in Keras 3's ``.weights.h5`` layout.

Keras walks a model as saving_lib does: a Sequential or Functional model's ``layers`` first (a
list, each layer under the snake_case name of its class, ``dense``, ``dense_1``, ...), then the
attributes of each object in sorted order (private ones last); each object's own variables go
in ``<path>/vars/<i>`` (a group whose ``name`` attribute is the object's name), a shared object
only where it is first met. ember's LSTM, GRU and SimpleRNN hold their weights themselves, where
Keras puts them in a ``cell`` sublayer; the walk puts them at ``<path>/cell/vars``.
"""
from __future__ import annotations

import re

from .engine.graph import GraphIO
from .layers.layer import Layer
from .layers.recurrent import RecurrentBase
from .layers.tracking import LayerCollection
from .trainer import Trainer

_CELL_NAMES = {"LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell"}


def snake_case(name: str) -> str:
    """Keras' naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


class Layout:
    """``groups``: [(vars group path, object name)]; ``slots``: [(dataset path, owner layer,
    attribute name, Parameter)], in Keras' variable order within each owner; ``objects``:
    [(path, layer)]."""

    def __init__(self):
        self.groups, self.slots, self._seen = [], [], set()
        self.objects = []  # (path, layer) of every layer met, the model first

    def _vars(self, path, name, owner, weights):
        group = f"{path}/vars" if path else "vars"
        self.groups.append((group, name))
        for i, (attr, param) in enumerate(weights):
            self.slots.append((f"{group}/{i}", owner, attr, param))

    def add(self, layer, path: str):
        if id(layer) in self._seen:
            return
        self._seen.add(id(layer))
        self.objects.append((path, layer))
        own = layer._own_weights()
        if isinstance(layer, RecurrentBase) and type(layer).__name__ in _CELL_NAMES:
            self._vars(path, layer.name, layer, [])
            self._vars(f"{path}/cell", _CELL_NAMES[type(layer).__name__], layer, own)
            return
        self._vars(path, layer.name, layer, own)
        for attr, child in _children(layer):
            base = f"{path}/{attr}" if path else attr
            if isinstance(child, list):
                used = {}
                for item in child:
                    self.add(item, f"{base}/{_unique(snake_case(type(item).__name__), used)}")
            else:
                self.add(child, base)


def _children(layer) -> list:
    """(attribute, sublayer or list of sublayers) in the order Keras' walk visits them."""
    if _is_graph_model(layer):
        return [("layers", list(layer.layers))]  # (its other attributes hold the same layers)
    if type(layer).__name__ == "StackedRNNCells":  # (ember tracks them as cell_0, cell_1, ...)
        return [("cells", list(layer.cells))]
    found = []
    for attr, module in layer._modules.items():
        if isinstance(module, LayerCollection):
            found.append((attr, [m for m in module._modules.values() if isinstance(m, Layer)]))
        elif isinstance(module, Layer):
            found.append((attr, module))
    if _is_model(layer):
        found.append(("layers", list(layer.layers)))  # Keras' dir() walk meets Model.layers
    return sorted(found, key=lambda c: _name_key(c[0]))


def _is_model(layer) -> bool:
    return isinstance(layer, Trainer)


def _is_graph_model(layer) -> bool:
    """A Sequential or Functional model (or a subclass): Keras walks its ``layers`` first."""
    return isinstance(layer, GraphIO)


def layout(model) -> Layout:
    """The Keras layout of all of ``model``'s weights (the model at the root)."""
    out = Layout()
    out.add(model, "")
    return out
