"""keras.backend: the settings getters/setters (shared with keras.config), dtype helpers and
clear_session. (Keras' ``result_type`` promotion lattice is not reproduced.)"""
from __future__ import annotations

from . import utils
from .config import (backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx,
                     set_image_data_format)
from .layers.input_layer import KerasTensor
from .ops.core import standardize_dtype
from .random import reset_global_seed_generator

_uids: dict = {}


def clear_session(free_memory=True):
    """Resets Keras' global state: layer-name counters, ``get_uid`` counters and the global
    random seed generator. (``free_memory`` is kept for Keras' signature: ember frees a
    tensor's memory as soon as nothing refers to it.)"""
    utils.clear_session()
    _uids.clear()
    reset_global_seed_generator()


def get_uid(prefix=""):
    """1 for the first call with ``prefix``, then 2, 3, ..."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor made by keras.Input (not an eager tensor)."""
    return isinstance(x, KerasTensor)


def is_float_dtype(dtype) -> bool:
    return standardize_dtype(dtype) in ("float16", "bfloat16", "float32", "float64")


def is_int_dtype(dtype) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
           "is_float_dtype", "is_int_dtype", "is_keras_tensor", "set_epsilon",
           "set_floatx", "set_image_data_format", "standardize_dtype"]
