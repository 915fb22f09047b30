"""default_collate / default_convert: PyTorch's rules for turning samples into batch tensors.

Tensors and NumPy arrays are stacked along a new first dimension (arrays keep their dtype),
NumPy scalars become a 1-D tensor of their dtype, Python floats float64, Python ints int64
(bools bool), strings and bytes stay a list; tuples, lists, named tuples and dicts are
collated field by field (a tuple of fields comes back as a list, as in PyTorch).
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ...creation import tensor as _tensor
from ...dtypes import from_numpy_dtype
from ...functions import stack
from ...tensor import Tensor

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _wrap(array):
    from_numpy_dtype(array.dtype)  # TypeError for dtypes ember has no tensor for
    return Tensor._from_op(array, None)


def _stack_arrays(arrays):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        from ..._core import ShapeError
        raise ShapeError("default_collate: expects each sample to be equal size, got shapes "
                         f"{[tuple(a.shape) for a in arrays]}")
    return _wrap(np.stack(arrays))


def _collate_tensors(batch):
    if any(t.requires_grad for t in batch):
        return stack(batch, 0)  # keeps the autograd graph, as torch.stack does
    return _stack_arrays([t._array for t in batch])


def _collate_numpy_arrays(batch):
    if _STRING_OR_OBJECT.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERROR.format(batch[0].dtype))
    return _stack_arrays([np.asarray(b) for b in batch])


def _collate_numpy_scalars(batch):
    return _wrap(np.asarray(batch))


def _collate_floats(batch):
    return _tensor(batch, dtype="double")


def _collate_ints(batch):
    return _tensor(batch)  # int64 (bool for bools), as torch.tensor does


def _collate_strings(batch):
    return batch


# Checked in this order, exact type first, as torch.utils.data.default_collate_fn_map.
default_collate_fn_map = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_numpy_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    str: _collate_strings,
    bytes: _collate_strings,
}


def _lookup(elem):
    collate_fn = default_collate_fn_map.get(type(elem))
    if collate_fn is not None:
        return collate_fn
    for collate_type, collate_fn in default_collate_fn_map.items():
        if isinstance(elem, collate_type):
            return collate_fn
    return None


def _same_container(original, fields):
    """`fields` (a dict or list) in a container of `original`'s type, as PyTorch does: a copy
    of a mutable one with its items replaced, else the type called on the fields, else as is."""
    try:
        if isinstance(original, collections.abc.MutableMapping):
            clone = copy.copy(original)
            clone.update(fields)
            return clone
        if isinstance(original, collections.abc.MutableSequence):
            clone = copy.copy(original)
            for i, field in enumerate(fields):
                clone[i] = field
            return clone
        return type(original)(fields)
    except TypeError:
        return fields


def default_collate(batch):
    """Collates a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    elem_type = type(elem)
    collate_fn = _lookup(elem)
    if collate_fn is not None:
        return collate_fn(batch)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _same_container(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return elem_type(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, for backwards compatibility (PyTorch does the same)
        return _same_container(elem, fields)
    raise TypeError(_ERROR.format(elem_type))


def default_convert(data):
    """Turns NumPy arrays and scalars inside ``data`` into tensors, leaving the rest as is."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return _wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        return _same_container(data, fields)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        fields = [default_convert(d) for d in data]
        return _same_container(data, fields)
    return data
