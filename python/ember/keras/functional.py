"""keras.Model(inputs, outputs): a Functional model, a graph of layer calls on KerasTensors.

``keras.Model(inputs, outputs)`` returns a Functional (Model.__new__ dispatches, as in Keras).
Its layers are registered as submodules, so parameters(), state_dict(), train() and
compile/fit/evaluate/predict work as for Sequential. Calling it runs the nodes in order,
passing ``training`` and Keras masks on as Sequential does (see models._output_mask).
"""
from __future__ import annotations

import numpy as np

import ember
from . import data_adapter, functional_config
from .engine import graph, tree
from .engine.input_rank import adjust_rank, adjusted_shape
from .engine.keras_tensor import KerasTensor
from .engine.symbolic_call import has_keras_tensor, symbolic_call
from .functional_summary import summary_rows
from .layers import tensor_masks
from .object_registration import custom_object_scope
from .models import Model, Sequential, _accepts_argument, _accepts_training, _output_mask


def _check_tensors(what: str, structure):
    flat = tree.flatten(structure)
    for x in flat:
        if not isinstance(x, KerasTensor):
            raise ValueError(f"All `{what}` values must be KerasTensors. Received: "
                             f"{what}={structure!r:.200} including invalid value {x!r:.80} of "
                             f"type {type(x).__name__}")
    if not flat:
        raise ValueError(f"Functional model: `{what}` must hold at least one KerasTensor.")
    return flat


class Functional(graph.GraphIO, Model):
    """A Model defined by its input and output KerasTensors (single, list or dict of them)."""

    def __init__(self, inputs, outputs, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        flat_inputs = _check_tensors("inputs", inputs)
        flat_outputs = _check_tensors("outputs", outputs)
        self.__dict__.update(_inputs_struct=inputs, _outputs_struct=outputs)
        self._flat_inputs, self._flat_outputs = flat_inputs, flat_outputs
        self._nodes, first_seen = graph.nodes_in_order(flat_inputs, flat_outputs)
        self._graph_layers = graph.layers_by_depth(self._nodes, flat_inputs, first_seen)
        names = [layer.name for layer in self._graph_layers]
        for layer_name in names:
            if names.count(layer_name) != 1:
                raise ValueError(f'The name "{layer_name}" is used {names.count(layer_name)} '
                                 "times in the model. All layer names should be unique.")
        for layer in self._graph_layers:
            self.add_module(self._module_key(layer.name), layer)
        # Calls of one tensor giving one tensor, with no mask to make: run without argument
        # structures (a set of node ids; masks and training go the general way).
        self._simple_nodes = {id(node) for node in self._nodes if not node.is_input
                              and len(node.call_args) == 1 and not node.call_kwargs
                              and isinstance(node.call_args[0], KerasTensor)
                              and len(node.output_tensors) == 1
                              and getattr(type(node.layer), "compute_mask", None) is None}
        self.output_names = [t._keras_history[0].name for t in flat_outputs]
        self.input_names = [t._keras_history[0].name for t in flat_inputs]
        shapes = [t.shape for t in flat_inputs]
        self._build_input_shape = shapes[0] if len(shapes) == 1 else shapes
        if len(shapes) == 1:  # a Sequential starting with this model takes its input, as Keras
            self._input_shape_arg, self._batch_size_arg = shapes[0][1:], shapes[0][0]
        self.built = True

    def _module_key(self, layer_name: str) -> str:
        """Layers are submodules under their names, unless a name is a Model attribute
        ("output", "layers", ...)."""
        clash = hasattr(type(self), layer_name) or layer_name in self.__dict__
        return f"layer_{layer_name}" if clash else layer_name

    # ---- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._graph_layers)

    _summary_width, _summary_positions = 98, [0.33, 0.55, 0.67, 1.0]
    _summary_extra_header = ["Connected to"]

    def _summary_rows(self, layer):
        return summary_rows(self, layer)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints the layers, their output shapes, parameter counts and inbound tensors."""
        super().summary(line_length, positions, print_fn, expand_nested, show_trainable,
                        layer_range)

    # ---- calling -----------------------------------------------------------------------------
    def _maybe_build(self, input_shape):
        pass  # built by the constructor

    def forward(self, inputs, *args, **kwargs):
        if not isinstance(inputs, ember.Tensor) and has_keras_tensor((inputs, args, kwargs)):
            return symbolic_call(self, (inputs,) + args, kwargs)  # a nested model
        return self.call(inputs, *args, **kwargs)

    def _flatten_inputs(self, inputs) -> list:
        struct = self._inputs_struct
        if isinstance(inputs, ember.Tensor) and len(self._flat_inputs) == 1:
            flat = [inputs]  # (the common call, first)
        elif isinstance(inputs, dict) and not isinstance(struct, dict):
            missing = [t.name for t in self._flat_inputs if t.name not in inputs]
            if missing:
                raise ValueError(f'Model "{self.name}": missing inputs {missing} in the dict '
                                 f"of inputs (keys {sorted(inputs)}); its inputs are named "
                                 f"{[t.name for t in self._flat_inputs]}")
            flat = [inputs[t.name] for t in self._flat_inputs]
        elif isinstance(struct, dict) and isinstance(inputs, dict):
            if set(inputs) != set(struct):
                raise ValueError(f'Model "{self.name}" expects inputs with keys '
                                 f"{sorted(struct)}; received keys {sorted(inputs)}")
            flat = tree.flatten(inputs)
        elif isinstance(inputs, (list, tuple)) and not (
                len(self._flat_inputs) == 1 and not isinstance(inputs[0], (ember.Tensor,
                                                                            np.ndarray))):
            flat = tree.flatten(list(inputs))
        else:
            flat = [inputs]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self._flat_inputs)} input(s), '
                             f"but it received {len(flat)} input tensors.")
        return [self._as_input(i, x) for i, x in enumerate(flat)]

    def _as_input(self, index, x):
        spec = self._flat_inputs[index]
        if spec.dtype == "string":
            x = data_adapter.as_text(x, f'Input {index} of model "{self.name}" (dtype string)')
        elif not isinstance(x, ember.Tensor):
            x = ember.from_numpy(np.ascontiguousarray(x, dtype=np.dtype(spec.dtype)))
        if len(x.shape) != len(spec.shape):
            x = adjust_rank(x, spec.shape)
        self._check_shape(index, tuple(x.shape))
        return x

    def _check_shape(self, index, shape):
        expected = self._flat_inputs[index].shape
        if shape[1:] == expected[1:]:  # (the common case, at C speed)
            return
        shape = adjusted_shape(shape, expected)  # (as _as_input will adjust it)
        if len(shape) != len(expected) or any(
                e is not None and e != d for e, d in zip(expected, shape)):
            raise ValueError(f'Input {index} of layer "{self.name}" is incompatible with the '
                             f"layer: expected shape={expected}, found shape={shape}")

    def _check_input(self, x):
        if len(self._flat_inputs) == 1:
            self._check_shape(0, tuple(x.shape))

    def call(self, inputs, training=None, mask=None):
        values = self._flatten_inputs(inputs)
        if mask is not None:
            masks = tree.flatten(mask)
        elif tensor_masks.masks:  # Keras: masks the input tensors carry
            masks = [tensor_masks.get_mask(v) for v in values]
        else:
            masks = [None] * len(values)
        outputs, output_masks = _run_graph(self, values, masks, training)
        for output, output_mask in zip(outputs, output_masks):
            if output_mask is not None:  # (as the last layers' calls attach them in Keras)
                tensor_masks.set_mask(output, output_mask)
        # (fit's loss check reads it; a plain attribute as Sequential keeps it)
        self.__dict__["_output_mask"] = output_masks[0] if len(outputs) == 1 else None
        return graph.unpack_singleton(tree.pack_like(self._outputs_struct, outputs))

    def compute_mask(self, inputs, mask=None):
        return self.__dict__.get("_output_mask")

    # ---- config (functional_config.py) -------------------------------------------------------
    def get_config(self):
        """Keras 3's functional config: layers with their inbound nodes, input and output
        layers."""
        return functional_config.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model ``get_config()`` describes, with newly initialized weights."""
        classes = {"Functional": Functional, "Model": Functional, "Sequential": Sequential}
        with custom_object_scope(custom_objects):
            return functional_config.from_config(cls, dict(config), classes)


def _run_graph(model, values: list, masks: list, training):
    """The model's flat outputs and their masks for the flat input ``values``."""
    found = {id(t): v for t, v in zip(model._flat_inputs, values)}
    found_masks = {id(t): m for t, m in zip(model._flat_inputs, masks)}

    def value_of(x):
        return found[id(x)] if isinstance(x, KerasTensor) else x

    simple = model._simple_nodes
    for node in model._nodes:
        if node.is_input:
            continue
        layer = node.layer
        if training is None and id(node) in simple:
            source = id(node.call_args[0])
            if found_masks.get(source) is None:  # the common call: one tensor in, one out
                found[id(node.output_tensors[0])] = layer(found[source])
                continue
        args = tree.map_structure(value_of, node.call_args)
        kwargs = tree.map_structure(value_of, node.call_kwargs)
        in_mask = tree.map_structure(
            lambda x: found_masks.get(id(x)) if isinstance(x, KerasTensor) else None,
            node.call_args[0])
        has_mask = any(m is not None for m in tree.flatten(in_mask))
        if training is not None and "training" not in kwargs and _accepts_training(layer):
            kwargs["training"] = training
        if has_mask and "mask" not in kwargs and _accepts_argument(layer, "mask"):
            kwargs["mask"] = in_mask
        result = tree.flatten(layer(*args, **kwargs))
        if len(result) != len(node.output_tensors):
            raise ValueError(f"Layer '{layer.name}' returned {len(result)} tensors where its "
                             f"symbolic call returned {len(node.output_tensors)}")
        out_mask = None
        if has_mask or getattr(type(layer), "compute_mask", None) is not None:
            out_mask = _output_mask(layer, args[0], in_mask if has_mask else None)
        out_masks = (list(out_mask) if isinstance(out_mask, (list, tuple))
                     else [out_mask] * len(result))
        for tensor, value, value_mask in zip(node.output_tensors, result, out_masks):
            found[id(tensor)] = value
            found_masks[id(tensor)] = value_mask
    return ([found[id(t)] for t in model._flat_outputs],
            [found_masks.get(id(t)) for t in model._flat_outputs])
