"""Real Keras 3 as a reference for the Keras-face tests (skipped when it is not installed).

Keras must pick its backend before its first import; ember's reference tests use the torch
backend (the only one installed beside ember here)."""
import contextlib
import os

import pytest


def real_keras():
    """The real ``keras`` module on the torch backend, or skip the calling test."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"real Keras runs on the {keras.backend.backend()} backend, not torch")
    return keras


def to_numpy(value):
    """A real-Keras result (a torch tensor, maybe requiring grad) as a NumPy array.
    (Not keras.ops.convert_to_numpy: with NumPy 2 it goes through torch's __array__, which
    warns, and the tests turn warnings into errors.)"""
    import numpy as np
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)



@contextlib.contextmanager
def keras_numpy2_warnings_ignored():
    """Real Keras' own DeprecationWarnings under NumPy 2 (torch tensors' ``__array__`` without
    ``copy=``, met inside Keras' predict, get_config and some optimizers) do not fail a test
    in this block: they are Keras' matter, not ember's."""
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield
