"""Calling a layer on KerasTensors: the layer runs once on zeros of the symbolic shapes (a
probe, batch of one, inference mode, no gradients), which builds it and gives the dtypes and
sizes of its outputs; a Node records the call.

Unknown sizes: each None axis of the inputs (other than the batch axis) is probed with two
sizes; output axes whose size differs between the probes are None. The batch axis stays
None unless every input fixes it."""
from __future__ import annotations

import numpy as np

import ember
from . import tree
from .keras_tensor import KerasTensor, standardize_dtype
from .node import Node

# Probe sizes for unknown axes: large enough for a few stride-2 stages, and apart enough that
# floor divisions by up to 32 still tell them apart.
_PROBE_SIZES = (64, 96)


def has_keras_tensor(structure) -> bool:
    return any(isinstance(x, KerasTensor) for x in tree.flatten(structure))


def _probe_value(tensor: KerasTensor, size: int, batch: int):
    shape = [batch if tensor.shape[0] is None else tensor.shape[0]] if tensor.shape else []
    shape += [size if d is None else d for d in tensor.shape[1:]]
    return ember.from_numpy(np.zeros(shape, dtype=np.dtype(tensor.dtype)))


def _probe(layer, args, kwargs, size):
    def substitute(x):
        return _probe_value(x, size, 1) if isinstance(x, KerasTensor) else x

    probe_args = tree.map_structure(substitute, args)
    probe_kwargs = tree.map_structure(substitute, kwargs)
    was_training = layer.training
    layer.eval()
    try:
        with ember.no_grad():
            return layer(*probe_args, **probe_kwargs)
    finally:
        layer.train(was_training)


def _batch_size(inputs):
    sizes = {t.shape[0] if t.shape else None for t in inputs}
    return sizes.pop() if len(sizes) == 1 else None


def symbolic_call(layer, args: tuple, kwargs: dict):
    """``layer(*args, **kwargs)`` on KerasTensors: returns KerasTensor(s) shaped as the layer's
    output(s) and records the call as a Node of ``layer``."""
    inputs = [x for x in tree.flatten([args, kwargs]) if isinstance(x, KerasTensor)]
    unbuilt_model = layer.__dict__.get("_build_input_shape", ()) is None
    first = _probe(layer, args, kwargs, _PROBE_SIZES[0])
    if unbuilt_model and len(inputs) == 1:  # a model records the symbolic shape, not the probe's
        layer.__dict__["_build_input_shape"] = inputs[0].shape
    second = None
    if any(d is None for t in inputs for d in t.shape[1:]):
        second = tree.flatten(_probe(layer, args, kwargs, _PROBE_SIZES[1]))
    flat = tree.flatten(first)
    for value in flat:
        if not isinstance(value, ember.Tensor):
            raise TypeError(f"Layer '{layer.name}' ({type(layer).__name__}) returned "
                            f"{type(value).__name__}, not tensors; ember's functional graph "
                            "needs layers that return a tensor or a list/tuple of tensors.")
    batch = _batch_size(inputs)
    outputs = []
    for i, value in enumerate(flat):
        shape = list(value.shape)
        if second is not None:
            shape = [d if d == other else None for d, other in zip(shape, second[i].shape)]
        if shape:
            shape[0] = batch
        outputs.append(KerasTensor(shape, standardize_dtype(value.dtype)))
    structured = tree.pack_like(first, outputs)
    Node(layer, args, kwargs, structured)
    return structured
