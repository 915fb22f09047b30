"""Keras' top-k accuracies: whether the target class is among the k highest predictions."""
from __future__ import annotations

import numbers

import numpy as np

from .base_metrics import MeanMetricWrapper, to_numpy


def _in_top_k(targets, predictions, k):
    """Keras' in_top_k: the target's score is among the k largest of its row (ties with the
    k-th score count as in)."""
    rows = np.arange(len(targets))
    target_scores = predictions[rows, targets]
    return np.sum(predictions > target_scores[:, None], axis=-1) < k


def _matches(y_true_ids, y_pred, k, op):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{op}: k must be a positive integer. Received: k={k!r}")
    shape = y_true_ids.shape
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    ids = y_true_ids.reshape(-1)
    if len(ids) != len(y_pred):
        raise ValueError(f"{op}: y_true of shape {shape} does not match y_pred of shape "
                         f"{y_pred.shape}")
    if np.any((ids < 0) | (ids >= y_pred.shape[-1])):
        raise ValueError(f"{op}: target ids must be in [0, {y_pred.shape[-1]}). Received "
                         f"ids from {ids.min()} to {ids.max()}")
    return _in_top_k(ids, y_pred, k).astype(np.float32).reshape(shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the k highest predictions."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred).astype(np.float64)
    return _matches(np.argmax(y_true, axis=-1), y_pred, k, "top_k_categorical_accuracy")


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer target is among the k highest predictions (with from_sorted_ids,
    y_pred holds class ids sorted by score, and the target is looked up in its first k)."""
    y_true, y_pred = np.asarray(to_numpy(y_true)), np.asarray(to_numpy(y_pred))
    if y_true.ndim == y_pred.ndim and y_true.ndim > 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if from_sorted_ids:
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        hit = np.any(ids == y_true.reshape(-1, 1), axis=1)
        return hit.astype(np.float32).reshape(y_true.shape)
    return _matches(y_true.astype(np.int64), y_pred.astype(np.float64), k,
                    "sparse_top_k_categorical_accuracy")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
