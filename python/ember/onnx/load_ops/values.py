"""Small conversions the operator builders share: integer inputs to Python ints, axes checked
against a rank, NumPy arrays to ember tensors."""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor


def int_list(value, what: str) -> list:
    """A 0-D or 1-D integer tensor (a shape, axes, starts...) as a list of ints."""
    if value._array.dtype.kind not in "iu" or value.ndim > 1:
        raise ValueError(f"{what} must be a 1-D integer tensor, got {value.dtype} of shape "
                         f"{tuple(value.shape)}")
    return [int(v) for v in np.asarray(value._array).reshape(-1)]


def scalar(value, what: str):
    """A one-element tensor as a Python number."""
    if value.numel() != 1:
        raise ValueError(f"{what} must hold one value, got shape {tuple(value.shape)}")
    return value._array.reshape(-1)[0].item()


def axis_of(axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < ndim:
        raise IndexError(f"{what} {axis} is out of range for a tensor of rank {ndim} (expected "
                         f"{-ndim} to {ndim - 1})")
    return axis % ndim


def axes_of(axes, ndim: int, what: str = "axes") -> list:
    result = [axis_of(a, ndim, what) for a in axes]
    if len(set(result)) != len(result):
        raise ValueError(f"{what} {list(axes)} name an axis twice")
    return result


def constant(array) -> Tensor:
    """A tensor that is no function of anything differentiable."""
    return Tensor._from_op(np.asarray(array, order="C"), None)  # (keeps 0-D arrays 0-D)
