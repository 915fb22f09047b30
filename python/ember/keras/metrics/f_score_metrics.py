"""Keras' FBetaScore and F1Score: per-class F-beta from accumulated true/false positives and
false negatives, averaged as asked (None: one score per class)."""
from __future__ import annotations

import numpy as np

from .base_metrics import Metric, to_numpy

EPSILON = 1e-7  # keras.backend.epsilon()


class FBetaScore(Metric):
    """``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)``; predictions are
    positive above ``threshold`` or, without one, where they are the row's maximum."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        cls = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{cls}: invalid `average` argument value. Expected one of: "
                             "{None, 'micro', 'macro', 'weighted'}. Received: "
                             f"average={average!r}")
        if not isinstance(beta, float):
            raise ValueError(f"{cls}: invalid `beta` argument value. It should be a Python "
                             f"float. Received: beta={beta!r} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"{cls}: invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"{cls}: invalid `threshold` argument value. It should be a "
                                 f"Python float. Received: threshold={threshold!r} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"{cls}: invalid `threshold` argument value. It should "
                                 f"verify 0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._sums = None  # shaped by the first batch

    def update_state(self, y_true, y_pred, sample_weight=None):
        cls = type(self).__name__
        y_true = np.asarray(to_numpy(y_true), dtype=np.float64)
        y_pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(f"{cls} expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={y_pred.shape} and "
                             f"y_true.shape={y_true.shape}.")
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{cls}: y_true and y_pred must have the same shape. Received: "
                             f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
        if self._sums is not None and self._classes != y_pred.shape[1]:
            raise ValueError(f"{cls}: built for {self._classes} classes; received y_pred of "
                             f"shape {y_pred.shape}")
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = 1.0 if sample_weight is None else np.asarray(
            to_numpy(sample_weight), dtype=np.float64)[:, None]

        def weighted_sum(values):
            return np.sum(values * weight, axis=self.axis)

        sums = [weighted_sum(predicted * y_true), weighted_sum(predicted * (1 - y_true)),
                weighted_sum((1 - predicted) * y_true), weighted_sum(y_true)]
        if self._sums is None:
            self._classes = y_pred.shape[1]
            self._sums = sums
        else:
            self._sums = [a + b for a, b in zip(self._sums, sums)]

    def result(self):
        if self._sums is None:
            return 0.0
        tp, fp, fn, support = self._sums
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + EPSILON) * (1 + beta2)
        if self.average == "weighted":
            return float(np.sum(score * support / (np.sum(support) + EPSILON)))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
