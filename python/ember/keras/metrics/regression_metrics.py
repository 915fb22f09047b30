"""Keras' RootMeanSquaredError: the square root of the (weighted) mean squared error."""
from __future__ import annotations

import math

import numpy as np

from ..losses import squeeze_or_expand_to_same_rank
from .base_metrics import Mean, to_numpy


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(to_numpy(y_true), dtype=np.float64)
        y_pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
        t, p = squeeze_or_expand_to_same_rank(y_true.shape, y_pred.shape)
        try:
            error_sq = np.square(y_pred.reshape(p) - y_true.reshape(t))
        except ValueError:
            raise ValueError(f"RootMeanSquaredError: y_true of shape {y_true.shape} does not "
                             f"match y_pred of shape {y_pred.shape}") from None
        super().update_state(error_sq, sample_weight=sample_weight)

    def result(self) -> float:
        return math.sqrt(super().result())
