"""Keras 3's per-sample regression metrics beyond MSE/MAE/RMSE: MeanAbsolutePercentageError,
MeanSquaredLogarithmicError, CosineSimilarity and LogCoshError (NumPy, as Keras defines them:
an epsilon of 1e-7 where Keras uses backend.epsilon())."""
from __future__ import annotations

import numpy as np

from .base_metrics import MeanMetricWrapper, _same_rank, to_numpy

_EPSILON = 1e-7


def _pair(y_true, y_pred):
    return _same_rank(to_numpy(y_true).astype(np.float32), to_numpy(y_pred).astype(np.float32))


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), _EPSILON))
    return 100.0 * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    first = np.log(np.maximum(y_pred, _EPSILON) + 1.0)
    second = np.log(np.maximum(y_true, _EPSILON) + 1.0)
    return np.mean(np.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=axis, keepdims=True), 1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    return np.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def log_cosh(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    x = (y_pred - y_true).astype(np.float64)
    return np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1)  # stable log(cosh)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        # (Keras' config of this metric has no "axis" either)
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)
