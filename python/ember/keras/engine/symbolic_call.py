"""Calling a layer on KerasTensors: the layer runs once on zeros of the symbolic shapes (a
probe, batch of one, inference mode, no gradients), which builds it and gives the dtypes and
sizes of its outputs; a Node records the call.

Unknown sizes: each None axis of the inputs (other than the batch axis) is probed with two
sizes; output axes whose size differs between the probes are None, and so are those the
layer's own compute_output_shape calls None. The batch axis stays None unless every input
fixes it. (The probe runs anyway: it builds the layer and gives the output dtypes.)

Masks: an input KerasTensor's ``_keras_mask`` (a KerasTensor) gives its probe value an
all-True mask of that shape, so the layer's call gets ``mask`` and its mask rules run as in an
eager call; the masks the probe's outputs carry become their KerasTensors' ``_keras_mask``."""
from __future__ import annotations

import numpy as np

import ember
from . import tree
from .keras_tensor import KerasTensor, is_text, standardize_dtype
from .node import Node
from ..layers import call_context, tensor_masks

# Probe sizes for unknown axes: large enough for a few stride-2 stages, and apart enough that
# floor divisions (pooling, strides) by up to 64 still tell them apart.
_PROBE_SIZES = (64, 160)


def has_keras_tensor(structure) -> bool:
    return any(isinstance(x, KerasTensor) for x in tree.flatten(structure))


def _probe_shape(tensor: KerasTensor, size: int, batch: int) -> list:
    shape = [batch if tensor.shape[0] is None else tensor.shape[0]] if tensor.shape else []
    return shape + [size if d is None else d for d in tensor.shape[1:]]


def _probe_value(tensor: KerasTensor, size: int, batch: int):
    if tensor.dtype == "string":  # (strings stay NumPy: the text layers take them)
        return np.full(_probe_shape(tensor, size, batch), "", dtype=np.str_)
    value = ember.from_numpy(np.zeros(_probe_shape(tensor, size, batch),
                                      dtype=np.dtype(tensor.dtype)))
    mask = getattr(tensor, "_keras_mask", None)
    if mask is not None:
        tensor_masks.set_mask(value, ember.from_numpy(
            np.ones(_probe_shape(mask, size, batch), dtype=np.dtype(mask.dtype))))
    return value


def _probe(layer, args, kwargs, size):
    def substitute(x):
        return _probe_value(x, size, 1) if isinstance(x, KerasTensor) else x

    probe_args = tree.map_structure(substitute, args)
    probe_kwargs = tree.map_structure(substitute, kwargs)
    was_training = layer.training
    layer.eval()
    try:
        # (zeros may divide by zero in a layer's arithmetic: the values are never used)
        with ember.no_grad(), np.errstate(all="ignore"), call_context.inference():
            result = layer(*probe_args, **probe_kwargs)
        return result, [tensor_masks.get_mask(x) for x in tree.flatten(result)]
    except Exception as error:  # the message names the probe's sizes: say where they came from
        symbolic = [x.shape for x in tree.flatten([args, kwargs]) if isinstance(x, KerasTensor)]
        error.add_note(f"(raised while calling layer '{layer.name}' ({type(layer).__name__}) on "
                       f"KerasTensors of shapes {symbolic}, which ember runs once on zeros "
                       "with a batch of one and unknown sizes set to "
                       f"{' and '.join(map(str, _PROBE_SIZES))})")
        raise
    finally:
        layer.train(was_training)


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def _declared_shapes(layer, first_arg):
    """The layer's compute_output_shape for the shapes of its first argument, as a list of
    shapes, or None when it cannot say (e.g. a layer that only knows concrete shapes)."""
    if not all(isinstance(x, KerasTensor) for x in tree.flatten(first_arg)):
        return None
    try:
        declared = layer.compute_output_shape(tree.map_structure(lambda t: t.shape, first_arg))
    except Exception:  # (optional information: the probes decide)
        return None
    declared = [declared] if _is_shape(declared) else declared
    if not isinstance(declared, (tuple, list)) or not all(_is_shape(s) for s in declared):
        return None
    return [tuple(s) for s in declared]


def _batch_size(inputs):
    sizes = {t.shape[0] if t.shape else None for t in inputs}
    return sizes.pop() if len(sizes) == 1 else None


def _symbolic(value, second_value, declared, batch) -> KerasTensor:
    """The KerasTensor for a probe's output ``value``: sizes that differ from the second
    probe's (``second_value``), or that the layer declares unknown, are None."""
    shape = list(value.shape)
    if second_value is not None:
        shape = [d if d == other else None for d, other in zip(shape, second_value.shape)]
    if declared is not None and len(declared) == len(shape):
        # sizes the layer itself calls unknown stay unknown (two probes can coincide)
        shape = [None if known is None else d for d, known in zip(shape, declared)]
    if shape:
        shape[0] = batch
    return KerasTensor(shape, standardize_dtype(value.dtype))


def symbolic_call(layer, args: tuple, kwargs: dict):
    """``layer(*args, **kwargs)`` on KerasTensors: returns KerasTensor(s) shaped as the layer's
    output(s) and records the call as a Node of ``layer``."""
    inputs = [x for x in tree.flatten([args, kwargs]) if isinstance(x, KerasTensor)]
    unbuilt_model = layer.__dict__.get("_build_input_shape", ()) is None
    first, first_masks = _probe(layer, args, kwargs, _PROBE_SIZES[0])
    if unbuilt_model and len(inputs) == 1:  # a model records the symbolic shape, not the probe's
        layer.__dict__["_build_input_shape"] = inputs[0].shape
    second = second_masks = None
    if any(d is None for t in inputs for d in t.shape[1:]):
        second, second_masks = _probe(layer, args, kwargs, _PROBE_SIZES[1])
        second = tree.flatten(second)
    flat = tree.flatten(first)
    for value in flat:
        if not (isinstance(value, ember.Tensor) or is_text(value)):
            raise TypeError(f"Layer '{layer.name}' ({type(layer).__name__}) returned "
                            f"{type(value).__name__}, not tensors; ember's functional graph "
                            "needs layers that return a tensor or a list/tuple of tensors "
                            "(or NumPy arrays of strings).")
    batch = _batch_size(inputs)
    declared = None if second is None else _declared_shapes(layer, args[0])
    if declared is not None and len(declared) != len(flat):
        declared = None
    outputs = []
    for i, value in enumerate(flat):
        declared_shape = None if declared is None else declared[i]
        output = _symbolic(value, None if second is None else second[i], declared_shape, batch)
        if first_masks[i] is not None:
            output._keras_mask = _symbolic(first_masks[i], second_masks and second_masks[i],
                                           None, batch)
        outputs.append(output)
    structured = tree.pack_like(first, outputs)
    Node(layer, args, kwargs, structured)
    return structured
