"""keras.utils: to_categorical, set_random_seed, clear_session, PyDataset and the custom-object
registry (register_keras_serializable, custom_object_scope, get_custom_objects); get_file, the
image functions, normalize, the *_dataset_from_* utilities and plot_model come from the
utils_*.py modules."""
from __future__ import annotations

import random

import numpy as np

import ember
from .object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                  get_custom_objects, get_registered_name,
                                  get_registered_object, register_keras_serializable)
from .py_dataset import PyDataset  # noqa: F401
from .random import reset_global_seed_generator
from .sequence_utils import pad_sequences  # noqa: F401
from .utils_file import get_file  # noqa: F401
from .utils_image import array_to_img, img_to_array, load_img, save_img  # noqa: F401
from .utils_image_dataset import image_dataset_from_directory  # noqa: F401
from .utils_text_dataset import text_dataset_from_directory  # noqa: F401
from .utils_timeseries import timeseries_dataset_from_array  # noqa: F401
from .utils_numerical import normalize  # noqa: F401
from .utils_plot import model_to_dot, plot_model  # noqa: F401


def to_categorical(x, num_classes=None):
    """One-hot encodes integer labels (Keras 3 semantics: a trailing axis of 1 is dropped, the
    result is float64 of shape ``x.shape + (num_classes,)``)."""
    labels = np.asarray(x.detach().numpy() if isinstance(x, ember.Tensor) else x)
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise ValueError("to_categorical: labels must be integers. Received non-integer values.")
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"to_categorical: labels must be integers. Received dtype "
                         f"{labels.dtype}")
    labels = labels.astype(np.int64)
    input_shape = labels.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    flat = labels.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative. Received a label of "
                         f"{int(flat.min())}")
    if num_classes is None or num_classes == 0:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    elif int(num_classes) != num_classes or num_classes < 0:
        raise ValueError(f"to_categorical: num_classes must be a positive integer. Received: "
                         f"num_classes={num_classes!r}")
    num_classes = int(num_classes)
    if flat.size and flat.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(flat.max())} is out of range for "
                         f"num_classes={num_classes} (labels must be in [0, {num_classes - 1}])")
    categorical = np.zeros((flat.size, num_classes))
    categorical[np.arange(flat.size), flat] = 1
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def clear_session():
    """Resets Keras' layer and KerasTensor name counters (the next Dense is named "dense"
    again)."""
    from .engine import keras_tensor
    from .layers.layer import reset_names

    reset_names()
    keras_tensor.reset_names()


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy's global generator and ember's (initializers, dropout,
    shuffling), as keras.utils.set_random_seed seeds Python, NumPy and the backend."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError("Expected `seed` argument to be an integer. "
                         f"Received: seed={seed!r} (of type {type(seed).__name__})")
    if not 0 <= seed < 2**32:  # NumPy's global generator takes no other seeds (Keras fails too)
        raise ValueError(f"set_random_seed: seed must be between 0 and 2**32 - 1. Received: "
                         f"seed={seed}")
    random.seed(int(seed))
    np.random.seed(int(seed))
    ember.manual_seed(int(seed))
    reset_global_seed_generator()  # keras.random's unseeded draws restart from this seed
