"""The base of the NumPy-side preprocessing layers (lookups, hashing, encodings, text)."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ..layer import Layer

_DATA = (ember.Tensor, np.ndarray, np.generic, list, tuple, str, bytes, numbers.Number)


class NumpyDataLayer(Layer):
    """Strings and integer ids stay in NumPy and Python: data (arrays, lists, tensors, scalars)
    goes straight to ``call``, where Layer.forward would make float32 tensors of it; anything
    else (a symbolic input) takes Layer.forward's path."""

    def forward(self, inputs, *args, **kwargs):
        if isinstance(inputs, _DATA):
            self.built = True
            return self.call(inputs, *args, **kwargs)
        return super().forward(inputs, *args, **kwargs)
