"""The nodes between a functional model's inputs and outputs, in an order that runs them
(each node after the nodes making its inputs), and its layers ordered as Keras lists them:
by depth from the outputs (deepest first), ties in the order the search met them."""
from __future__ import annotations

from . import tree
from .node import inbound_nodes, producer_node


def _graph_error(tensor, layer, reached):
    return ValueError(f"Graph disconnected: cannot find parent for tensor {tensor} at layer "
                      f"'{layer.name}'. The following previous layers were accessed without "
                      f"issue: {reached}")


def nodes_in_order(inputs: list, outputs: list) -> tuple:
    """(nodes, first_seen): the nodes needed to compute ``outputs`` from ``inputs``, inputs
    first (depth-first, without recursion so deep models do not hit Python's limit), and the
    order in which the search from the outputs first met each layer (by id)."""
    input_ids = {id(t) for t in inputs}
    done, in_progress, order, first_seen = set(), set(), [], {}
    reached = []
    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = producer_node(tensor)
            if id(node) in done:
                continue
            if expanded:
                in_progress.discard(id(node))
                done.add(id(node))
                order.append(node)
                reached.append(node.layer.name)
                continue
            if id(tensor) in input_ids and not node.is_input:
                continue  # an intermediate tensor given as a model input: the graph starts here
            if node.is_input and id(tensor) not in input_ids:
                raise _graph_error(tensor, node.layer, reached)
            if id(node) in in_progress:
                raise ValueError(f"Tensor {tensor} from layer '{node.layer.name}' is part of "
                                 "a cycle.")
            in_progress.add(id(node))
            first_seen.setdefault(id(node.layer), len(first_seen))
            stack.append((tensor, True))
            for parent in reversed(node.input_tensors):
                stack.append((parent, False))
    return order, first_seen


def layers_by_depth(nodes: list, inputs: list, first_seen: dict) -> list:
    """Keras' ``model.layers`` order for the graph of ``nodes``."""
    in_graph = {id(node) for node in nodes}
    first_seen = dict(first_seen)
    node_depth, layer_depth = {}, {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = depth
        layer_depth[id(node.layer)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    layers = {id(node.layer): node.layer for node in nodes}
    for tensor in inputs:  # unused inputs are still layers of the model
        layer = tensor._keras_history[0]
        if id(layer) not in layers and inbound_nodes(layer)[tensor._keras_history[1]].is_input:
            layers[id(layer)] = layer
            layer_depth[id(layer)] = 0
            first_seen[id(layer)] = -1
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)],
                                                      first_seen[id(layer)]))


def unpack_singleton(x):
    return x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x


class GraphIO:
    """A model's symbolic ``inputs``/``outputs`` (flat lists), ``input``/``output`` (as given)
    and their shapes; the model sets ``_inputs_struct`` and ``_outputs_struct``."""

    def _structure(self, which: str):
        structure = self.__dict__.get(f"_{which}s_struct")
        if structure is None:
            raise ValueError(f"Model '{self.name}' has no defined {which}: it was not built "
                             "from keras.Input (give it an Input or input_shape first).")
        return structure

    @property
    def inputs(self):
        return tree.flatten(self._structure("input"))

    @property
    def outputs(self):
        return tree.flatten(self._structure("output"))

    @property
    def input(self):
        return self._structure("input")

    @property
    def output(self):
        return self._structure("output")

    @property
    def input_shape(self):
        return unpack_singleton(tree.map_structure(lambda t: t.shape, self._structure("input")))

    @property
    def output_shape(self):
        return unpack_singleton(tree.map_structure(lambda t: t.shape,
                                                    self._structure("output")))
