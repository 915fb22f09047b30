"""The rows of Functional.summary(): Keras' "Connected to" column names, for each call of a
layer in the model, the tensors it received as ``layer[node_index][tensor_index]`` (one per
line, as Keras 2 printed them)."""
from __future__ import annotations

from .engine.node import inbound_nodes


def _connections(model, layer) -> list:
    own = {id(node) for node in model._nodes}
    found = []
    for node in inbound_nodes(layer):
        if id(node) in own:
            for tensor in node.input_tensors:
                producer, node_index, tensor_index = tensor._keras_history
                found.append(f"{producer.name}[{node_index}][{tensor_index}]")
    return found or ["-"]


def _output_shape(model, layer):
    own = {id(node) for node in model._nodes}
    for node in inbound_nodes(layer):
        if id(node) in own or node.is_input:
            shapes = [t.shape for t in node.output_tensors]
            return shapes[0] if len(shapes) == 1 else shapes
    return "?"


def summary_rows(model, layer) -> list:
    params = layer.count_params() if layer.built else 0
    first, *rest = _connections(model, layer)
    return ([[f"{layer.name} ({type(layer).__name__})", _output_shape(model, layer), params,
              first]] + [["", "", "", connection] for connection in rest])
