"""Operators that make or pass tensors: Constant (read at load), ConstantOfShape, Identity,
Dropout (inference: the identity), Cast."""
from __future__ import annotations

import numpy as np

from ..._bounds import check_alloc
from ...dtypes import from_numpy_dtype
from ...nn import functional as F
from ..load_tensors import numpy_dtype
from .registry import register
from .values import constant, int_list, scalar

_VALUE_ATTRS = ("value", "value_float", "value_floats", "value_int", "value_ints")


def constant_value(node) -> np.ndarray:
    """The array a Constant node holds (its output becomes a buffer of the module)."""
    given = [name for name in node.attrs]
    if len(given) != 1:
        raise node.error(f"a Constant needs exactly one value attribute, got {given}")
    name = given[0]
    if name not in _VALUE_ATTRS:
        raise node.unsupported(f"a Constant of attribute {name!r}")
    if name == "value":
        return node.tensor("value")
    if name == "value_float":
        return np.array(node.float(name), dtype=np.float32)
    if name == "value_floats":
        return np.array(node.floats(name), dtype=np.float32)
    if name == "value_int":
        return np.array(node.int(name), dtype=np.int64)
    return np.array(node.ints(name), dtype=np.int64)


@register("ConstantOfShape", since=9)
def constant_of_shape(node):
    value = node.tensor("value", None)
    if value is None:
        value = np.zeros(1, np.float32)
    if value.size != 1:
        raise node.error(f"value must hold one element, got shape {value.shape}")

    def run(shape):
        dims = int_list(shape, "ConstantOfShape input")
        if any(d < 0 for d in dims):
            raise ValueError(f"ConstantOfShape shape {dims} has a negative size")
        check_alloc("ConstantOfShape", dims, value.dtype.itemsize)
        return constant(np.full(dims, value.reshape(()), dtype=value.dtype))
    return run


register("Identity", since=1)(lambda node: lambda x: x)


@register("Dropout", since=7)
def dropout(node):
    if node.version < 12:
        ratio_attr = node.float("ratio", 0.5)
    else:
        ratio_attr = None

    def run(x, ratio=None, training_mode=None):
        on = training_mode is not None and bool(scalar(training_mode, "Dropout training_mode"))
        if on:  # ONNX applies dropout only when the graph asks for it
            p = ratio_attr if ratio is None else float(scalar(ratio, "Dropout ratio"))
            p = 0.5 if p is None else p
            y = F.dropout(x, p, training=True)
        else:
            y = x
        if node.wants_output(1):
            if on:
                raise NotImplementedError("Dropout's mask output in training mode is not "
                                          "supported by ember")
            return y, constant(np.ones(tuple(x.shape), dtype=np.bool_))
        return y
    return run


@register("Cast", since=6)
def cast(node):
    target = numpy_dtype(node.int("to"), node.where)

    def run(x):
        if x._array.dtype == target:
            return x
        return x.to(from_numpy_dtype(target))
    return run
