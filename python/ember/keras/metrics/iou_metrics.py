"""Keras' MeanIoU: intersection over union per class from an accumulated confusion matrix,
averaged over the classes that occur."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .base_metrics import Metric, to_numpy

EPSILON = 1e-7  # keras.backend.epsilon()


class MeanIoU(Metric):
    """Mean over classes of ``tp / (tp + fp + fn)``; labels (or, with sparse_y_true/
    sparse_y_pred False, the argmax along ``axis``) outside [0, num_classes) are ignored, as
    is ``ignore_class``."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
                or num_classes < 1:
            raise ValueError("MeanIoU: num_classes must be a positive integer. Received: "
                             f"num_classes={num_classes!r}")
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.target_class_ids = list(range(self.num_classes))
        # Keras counts in an integer dtype by default: float weights are truncated.
        super().__init__(name=name, dtype=dtype or "int32")

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        # Keras casts the labels to its integer dtype (truncating floats).
        y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
        y_pred = np.asarray(y_pred).astype(np.int64).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"MeanIoU: y_true and y_pred must hold as many labels. Received "
                             f"{y_true.size} and {y_pred.size} labels")
        weight = np.ones(y_true.shape)
        if sample_weight is not None:
            given = np.asarray(to_numpy(sample_weight))
            if "int" in str(self.dtype):
                if given.dtype.kind == "f":
                    warnings.warn("You are passing weight as `float`, but dtype is `int`. This "
                                  "may result in an incorrect weight due to type casting "
                                  "Consider using integer weights.", stacklevel=2)
                given = given.astype(np.int64)
            try:
                weight = np.broadcast_to(given.astype(np.float64).reshape(-1), y_true.shape)
            except ValueError:
                raise ValueError(f"MeanIoU: sample_weight of shape {given.shape} does not fit "
                                 f"{y_true.size} labels") from None
        valid = (y_true >= 0) & (y_true < self.num_classes) & (y_pred >= 0) & (
            y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        np.add.at(self.total_cm, (y_true[valid], y_pred[valid]), weight[valid])

    def result(self) -> float:
        cm = self.total_cm
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + EPSILON))

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
