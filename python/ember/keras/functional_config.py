"""A Functional model's config in Keras 3's structure, and the model rebuilt from it.

``{"name", "trainable", "layers": [{"class_name", "config", "name", "inbound_nodes"}, ...],
"input_layers", "output_layers"}``: each inbound node is ``{"args": [...], "kwargs": {...}}``
whose KerasTensors are ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer_name, node_index, tensor_index]}}``; node indices count only the
calls that belong to the model (input_layers and output_layers count a nested Functional's
calls from 1, as Keras does). Layer classes come from ember's own Keras layers only
(saving.deserialize_layer); nothing is imported by name.
"""
from __future__ import annotations

from . import saving
from .engine import tree
from .engine.keras_tensor import KerasTensor
from .engine.node import inbound_nodes
from .layers.input_layer import InputLayer

_TENSOR = "__keras_tensor__"


def _first_node_index(layer) -> int:
    """Keras' Functional models start with a node of their own; config indices skip it."""
    return 1 if type(layer).__name__ == "Functional" else 0


def get_config(model) -> dict:
    own = {id(node) for node in model._nodes}
    for tensor in model._flat_inputs:
        if not isinstance(tensor._keras_history[0], InputLayer):
            raise NotImplementedError(
                f"get_config: model '{model.name}' takes the intermediate tensor {tensor.name} "
                "as an input; ember serializes functional models whose inputs are keras.Input "
                "tensors only.")
    # Each layer's calls that belong to the model, numbered from 0 (input and output layers
    # count a nested Functional's calls from 1, as Keras does).
    renumbered = {}
    for layer in model.layers:
        kept = 0
        for index, node in enumerate(inbound_nodes(layer)):
            if id(node) in own or (node.is_input and isinstance(layer, InputLayer)):
                renumbered[(id(layer), index)] = kept
                kept += 1

    def history(tensor, offset):
        layer, node_index, tensor_index = tensor._keras_history
        first = _first_node_index(layer) if offset else 0
        return [layer.name, renumbered[(id(layer), node_index)] + first, tensor_index]

    def serialize(value):
        if isinstance(value, KerasTensor):
            return {"class_name": _TENSOR, "config": {"shape": list(value.shape),
                                                       "dtype": value.dtype,
                                                       "keras_history": history(value, False)}}
        return value

    entries = []
    for layer in model.layers:
        nodes = [{"args": tree.map_structure(serialize, list(node.call_args)),
                  "kwargs": tree.map_structure(serialize, node.call_kwargs)}
                 for node in inbound_nodes(layer) if id(node) in own and not node.is_input]
        entries.append({"class_name": type(layer).__name__, "config": layer.get_config(),
                        "name": layer.name, "inbound_nodes": nodes})
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": tree.map_structure(lambda t: history(t, True), model._inputs_struct),
            "output_layers": tree.map_structure(lambda t: history(t, True),
                                                model._outputs_struct)}


class _NotReady(Exception):
    """A node whose inbound tensors are not made yet (processed on a later pass)."""


def _deserialize_layer(spec, model_classes: dict):
    """A layer, or a nested model (``model_classes``: class name -> model class)."""
    kind = spec.get("class_name") if isinstance(spec, dict) else None
    if kind in model_classes and isinstance(spec.get("config"), dict):
        return model_classes[kind].from_config(dict(spec["config"]))
    return saving.deserialize_layer(spec)


def _is_tensor_leaf(value) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) for v in value[1:]))


def from_config(cls, config, model_classes: dict):
    """The model ``config`` describes (a ``cls``, a Functional), with new weights; nested
    models are rebuilt by ``model_classes`` (class name -> class)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"Invalid functional model config: {config!r:.100}")
    created, pending = {}, []
    for entry in config["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("inbound_nodes"), list):
            raise ValueError(f"Invalid layer entry in a functional model config: {entry!r:.100}")
        layer = _deserialize_layer(entry, model_classes)
        name = entry.get("name", layer.name)
        if name in created:
            raise ValueError(f"Invalid functional model config: the layer name {name!r} is used "
                             "twice")
        created[name] = layer
        pending.append((layer, list(entry["inbound_nodes"])))

    def tensor(name, node_index, tensor_index, offset=False):
        layer = created.get(name)
        if layer is None:
            raise ValueError(f"Invalid functional model config: unknown layer {name!r}")
        nodes = inbound_nodes(layer)
        if offset:
            node_index -= _first_node_index(layer)
        if not 0 <= node_index < len(nodes):
            raise _NotReady
        outputs = nodes[node_index].output_tensors
        if not 0 <= tensor_index < len(outputs):
            raise ValueError(f"Invalid functional model config: layer {name!r} has no output "
                             f"{tensor_index}")
        return outputs[tensor_index]

    def revive(value):
        if isinstance(value, dict) and value.get("class_name") == _TENSOR:
            return tensor(*value["config"]["keras_history"])
        if isinstance(value, dict):
            return {key: revive(item) for key, item in value.items()}
        if isinstance(value, list):
            return [revive(item) for item in value]
        return value

    # Layers are called in config order, a node waiting until its inputs exist (a shared
    # layer may be called at several depths); a pass without progress means a broken graph.
    while any(nodes for _, nodes in pending):
        progressed = False
        for layer, nodes in pending:
            while nodes:
                try:
                    args, kwargs = revive(nodes[0]["args"]), revive(nodes[0]["kwargs"])
                except _NotReady:
                    break
                layer(*args, **kwargs)
                nodes.pop(0)
                progressed = True
        if not progressed:
            stuck = [layer.name for layer, nodes in pending if nodes]
            raise ValueError("Invalid functional model configuration: the graph has loops or "
                             f"disconnected nodes. Unresolved layers: {stuck}")

    def tensors(structure):
        if _is_tensor_leaf(structure):
            return tensor(*structure, offset=True)
        if isinstance(structure, dict):
            return {key: tensors(item) for key, item in structure.items()}
        return [tensors(item) for item in structure]

    try:
        inputs, outputs = tensors(config["input_layers"]), tensors(config["output_layers"])
    except _NotReady:
        raise ValueError("Invalid functional model configuration: an input or output refers "
                         "to a layer call that the config does not make") from None
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
