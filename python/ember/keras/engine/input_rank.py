"""Keras 3's input rank adjustment for models built from keras.Input: an input one axis
short of a declared shape ending in 1 gains that axis (strings of shape (batch,) for
``Input(shape=(1,), dtype="string")``), one with an extra last axis of 1 loses it."""
from __future__ import annotations

import ember


def adjusted_shape(shape: tuple, expected: tuple) -> tuple:
    """The shape an input of ``shape`` has once adjusted to the declared ``expected``."""
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return shape + (1,)
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return shape[:-1]
    return shape


def adjust_rank(x, expected: tuple):
    """``x`` (a Tensor or a NumPy array) with the axis added or dropped as adjusted_shape."""
    shape = tuple(x.shape)
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return x.unsqueeze(-1) if isinstance(x, ember.Tensor) else x[..., None]
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return x.squeeze(-1) if isinstance(x, ember.Tensor) else x[..., 0]
    return x
