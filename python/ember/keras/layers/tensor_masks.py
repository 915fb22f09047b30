"""Keras masks carried by tensors (Keras 3's ``_keras_mask``) for layers called one by one, as a
subclassed model's ``call`` does: a layer whose ``call`` takes ``mask`` receives the mask of
its input; the output carries the layer's ``compute_mask`` (or the input's mask, for layers
that support masking). ember Tensors have no attribute room (__slots__), so masks live in a
table keyed by the tensor's identity, each entry dropped with its tensor; the ``_keras_mask``
property that Keras code reads and writes (``x._keras_mask``) is a view of that table.

In functional-API probe calls (engine/symbolic_call.py) the probe tensors carry all-True masks
of the symbolic masks' shapes, so layers see a mask where Keras would give them one."""
from __future__ import annotations

import warnings
import weakref

import ember

masks: dict = {}  # id(tensor) -> (weak reference to the tensor, mask)

# Keras layers whose results depend on the mask; ember's versions have no mask argument.
_CONSUMERS_WITHOUT_MASK = ("BatchNormalization", "GlobalAveragePooling1D")


def get_mask(tensor):
    entry = masks.get(id(tensor))
    return entry[1] if entry is not None and entry[0]() is tensor else None


def set_mask(tensor, mask):
    key = id(tensor)
    if mask is None:  # (Keras: setting None clears the mask)
        entry = masks.get(key)
        if entry is not None and entry[0]() is tensor:
            del masks[key]
        return

    def drop(ref, key=key):
        entry = masks.get(key)
        if entry is not None and entry[0] is ref:
            del masks[key]

    try:
        masks[key] = (weakref.ref(tensor, drop), mask)
    except TypeError:  # (not weak-referenceable: no tensor)
        pass


def _keras_mask(tensor):
    """Keras 3's ``tensor._keras_mask``; like a torch tensor's attribute, absent (an
    AttributeError) on a tensor that carries no mask."""
    mask = get_mask(tensor)
    if mask is None:
        raise AttributeError("'Tensor' object has no attribute '_keras_mask'")
    return mask


ember.Tensor._keras_mask = property(_keras_mask, set_mask, lambda t: set_mask(t, None))


def propagate(layer, inputs, outputs, mask):
    """Attaches the output mask(s) of ``layer`` called on ``inputs`` with input ``mask``."""
    if getattr(type(layer), "compute_mask", None) is not None:
        output_mask = layer.compute_mask(inputs, mask)
    elif mask is None:
        return
    elif getattr(layer, "supports_masking", False):
        output_mask = mask
    else:
        kind = type(layer).__name__
        if kind in _CONSUMERS_WITHOUT_MASK:
            raise NotImplementedError(
                f"{kind} '{layer.name}' received a mask (from Embedding(mask_zero=True)); "
                "Keras would use it in this layer, ember's does not support masks.")
        warnings.warn(f"Layer '{layer.name}' (of type {kind}) was passed an input with a mask "
                      "attached to it. However, this layer does not support masking and will "
                      "therefore destroy the mask information. Downstream layers will not see "
                      "the mask.")
        return
    if isinstance(outputs, (list, tuple)):
        masks = output_mask if isinstance(output_mask, (list, tuple)) else [output_mask]
        for output, m in zip(outputs, masks):
            if m is not None:
                set_mask(output, m)
    elif output_mask is not None and not isinstance(output_mask, (list, tuple)):
        set_mask(outputs, output_mask)
