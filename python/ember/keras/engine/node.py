"""One Node per call of a layer on symbolic tensors: the layer, the call's arguments (with
KerasTensors in them) and the KerasTensors it returned. A shared layer has several nodes,
``layer._inbound_nodes[i]`` being its i-th call; an InputLayer has one node without inputs."""
from __future__ import annotations

from . import tree
from .keras_tensor import KerasTensor


def inbound_nodes(layer) -> list:
    """The nodes of ``layer``'s symbolic calls, in call order (kept in the instance dict: no
    Module bookkeeping)."""
    return layer.__dict__.setdefault("_inbound_nodes", [])


class Node:
    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [x for x in tree.flatten([self.call_args, self.call_kwargs])
                              if isinstance(x, KerasTensor)]
        self.outputs = outputs  # a KerasTensor, or a tuple/list of them (as the layer returned)
        self.output_tensors = tree.flatten(outputs)
        nodes = inbound_nodes(layer)
        self.node_index = len(nodes)
        nodes.append(self)
        for i, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, self.node_index, i)

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list:
        return [producer_node(t) for t in self.input_tensors]

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.node_index}]>"


def producer_node(tensor: KerasTensor) -> Node:
    layer, node_index, _ = tensor._keras_history
    return inbound_nodes(layer)[node_index]


def _unpack_single(values: list):
    return values[0] if len(values) == 1 else values


class NodeAttributes:
    """Keras' ``layer.input``/``output``/``input_shape``/``output_shape``: those of the layer's
    first call on symbolic tensors (Keras 3 reads node 0 also for a shared layer)."""

    def _first_node(self, what: str) -> Node:
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise ValueError(f"The layer {self.name} has never been called and thus has no "
                             f"defined {what}.")
        return nodes[0]

    @property
    def input(self):
        return _unpack_single(self._first_node("input").input_tensors)

    @property
    def output(self):
        return _unpack_single(self._first_node("output").output_tensors)

    @property
    def input_shape(self):
        return _unpack_single([t.shape for t in self._first_node("input shape").input_tensors])

    @property
    def output_shape(self):
        return _unpack_single([t.shape
                               for t in self._first_node("output shape").output_tensors])
