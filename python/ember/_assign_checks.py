"""Checks on state a user assigns to a tensor (`t.grad = g`, `t.data = d`), made at assignment
with PyTorch's messages, so a wrong value is refused where it is set, not where it breaks later."""
from __future__ import annotations

import numpy as np


def _type_text(value) -> str:
    """PyTorch's way of naming a type: `str`, `numpy.ndarray`."""
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _shape_text(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def check_assigned_grad(tensor, grad, tensor_type) -> None:
    """`grad` may become `tensor.grad`: a Tensor of the tensor's shape and dtype."""
    if not isinstance(grad, tensor_type):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{_type_text(grad)}")
    array = tensor._array
    if not isinstance(array, np.ndarray):  # an uninitialized (lazy) parameter has no shape yet
        return
    if grad._array.shape != array.shape:
        raise RuntimeError(f"attempting to assign a gradient of size "
                           f"'{_shape_text(grad._array.shape)}' to a tensor of size "
                           f"'{_shape_text(array.shape)}'. Please ensure that the gradient and "
                           f"the tensor are the same size")
    if grad._array.dtype != array.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{grad.dtype}' to a "
                           f"tensor with dtype '{tensor.dtype}'. The gradient must match the "
                           f"tensor's dtype")


def check_assigned_data(value, tensor_type) -> None:
    """`value` may become `tensor.data`: any Tensor (PyTorch lets the shape and dtype change)."""
    if not isinstance(value, tensor_type):
        raise TypeError(f"Variable data has to be a tensor, but got {_type_text(value)}")
