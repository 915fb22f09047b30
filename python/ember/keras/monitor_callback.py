"""The part ModelCheckpoint and ReduceLROnPlateau share (Keras 3's MonitorCallback): which
way the monitored value should move, and whether a new value is an improvement."""
from __future__ import annotations

import warnings

from .callbacks import Callback

# Keras 3 reads the direction from the compiled metric object (`_direction`); ember's metrics
# carry none, so the direction comes from the metric's name (without "val_" or an output name).
_RISING = ("accuracy", "acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "iou",
           "r2_score", "cosine_similarity", "pearson_correlation", "concordance_correlation")
_FALLING = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "logcosh",
            "mse", "mae", "mape", "msle")


class MonitorCallback(Callback):
    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.best = baseline

    def _direction(self) -> str:
        """"min" or "max": the mode, or in auto mode what the metric's name says."""
        if self.mode != "auto":
            return self.mode
        name = self.monitor.removeprefix("val_")
        if name.endswith(_FALLING):
            return "min"
        if name.endswith(_RISING):
            return "max"
        raise ValueError(
            f"{type(self).__name__} callback received monitor={self.monitor}, but ember isn't "
            "able to automatically determine whether that metric should be maximized or "
            "minimized. Pass `mode='max'` in order to monitor based on the highest metric "
            "value, or pass `mode='min'` in order to use the lowest value.")

    def _is_improvement(self, current, reference) -> bool:
        if reference is None:
            return True
        if self._direction() == "max":
            return current > reference + self.min_delta
        return current < reference - self.min_delta
