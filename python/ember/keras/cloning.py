"""keras.models.clone_model: the same architecture with new layers (newly initialized weights,
as in Keras) for Sequential and functional models.

A functional model is cloned by replaying its graph: each layer is cloned once (so a shared
layer stays shared) and called on the clones of the tensors its original received.
"""
from __future__ import annotations

from .compile_copy import compile_like
from .engine import tree
from .engine.keras_tensor import KerasTensor
from .functional import Functional
from .layers.input_layer import InputLayer
from .models import Sequential


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model like ``model``; ``clone_function(layer)`` makes each new layer (default:
    ``layer.__class__.from_config(layer.get_config())``); ``input_tensors`` (KerasTensors)
    replace the model's inputs; ``recursive=True`` clones nested models layer by layer;
    ``call_function(layer, *args, **kwargs)`` (functional models) makes each layer's call in
    the clone; ``cache`` (a dict, as in Keras) maps ``id(layer)`` to clones already made."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise TypeError(f"clone_model: unrecognized keyword arguments: {sorted(kwargs)} (ember "
                        "clones Sequential and functional models only)")
    if clone_function is None:
        clone_function = _clone_layer
    if not callable(clone_function):
        raise ValueError("clone_model: clone_function must be callable. Received: "
                         f"clone_function={clone_function!r}")
    if call_function is not None and not callable(call_function):
        raise ValueError("clone_model: call_function must be callable. Received: "
                         f"call_function={call_function!r}")
    cache = {} if cache is None else cache

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(
                    layer, clone_function=clone_function, recursive=True, cache=cache,
                    call_function=None if isinstance(layer, Sequential) else call_function)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    if type(model) is Sequential:
        if call_function is not None:
            raise ValueError("clone_model: `call_function` argument is not supported with "
                             "Sequential models (their layers are not called when the model "
                             "is built). Use `call_function` with Functional models only.")
        return _compiled_like(_clone_sequential(model, input_tensors, clone), model)
    if type(model) is Functional:
        return _compiled_like(_clone_functional(model, input_tensors, clone, call_function),
                              model)
    raise NotImplementedError(f"clone_model: ember clones Sequential and functional models; "
                              f"{type(model).__name__} is a subclassed Model.")


def _compiled_like(clone, model):
    """Keras 3: the clone of a compiled model is compiled the same way."""
    if model.compiled:
        compile_like(clone, model)
    return clone


def _new_inputs(model, input_tensors):
    if input_tensors is None:
        return [_clone_layer(t._keras_history[0]).output for t in model.inputs]
    flat = tree.flatten(input_tensors)
    if len(flat) != len(model.inputs) or not all(isinstance(t, KerasTensor) for t in flat):
        raise ValueError(f"clone_model: input_tensors must be {len(model.inputs)} KerasTensor(s) "
                         f"(keras.Input), one per model input. Received: {input_tensors!r:.100}")
    return flat


def _clone_sequential(model, input_tensors, clone):
    layers = [clone(layer) for layer in model.layers]
    if model.input_shape is not None or input_tensors is not None:
        start = _new_inputs(model, input_tensors)[0]
        layers = [start._keras_history[0]] + layers
    return Sequential(layers, trainable=model.trainable, name=model.name)


def _clone_functional(model, input_tensors, clone, call_function=None):
    for tensor in model.inputs:
        if not isinstance(tensor._keras_history[0], InputLayer):
            raise NotImplementedError("clone_model: a functional model whose inputs are "
                                      "intermediate tensors cannot be cloned by ember")
    new_inputs = _new_inputs(model, input_tensors)
    mapped = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    for node in model._nodes:
        if node.is_input:
            continue
        layer = clone(node.layer)  # once per layer: a shared layer stays shared

        def new_tensor(x):
            return mapped[id(x)] if isinstance(x, KerasTensor) else x

        args = tree.map_structure(new_tensor, node.call_args)
        kwargs = tree.map_structure(new_tensor, node.call_kwargs)
        outputs = (layer(*args, **kwargs) if call_function is None
                   else call_function(layer, *args, **kwargs))
        for old, new in zip(node.output_tensors, tree.flatten(outputs)):
            mapped[id(old)] = new
    inputs = tree.pack_like(model.input, new_inputs)
    outputs = tree.map_structure(lambda t: mapped[id(t)], model.output)
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)
