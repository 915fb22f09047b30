"""What boston_housing and california_housing share: reading ``x``/``y`` from a cached npz and
Keras' seeded shuffle and train/test cut."""
from __future__ import annotations

import numpy as np

from .npz_reader import load_npz


def check_test_split(test_split):
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 "
                         "and 1 (exclusive of 1).")


def read_xy(path, where):
    arrays = load_npz(path, ("x", "y"), where)
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{where}: {path} holds x of shape {x.shape} and y of shape {y.shape}; "
                         "expected (N, features) and (N,)")
    return x, y


def shuffle_and_split(x, y, test_split, seed):
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
