"""keras.callbacks.ModelCheckpoint: saves the model (or its weights) every epoch or every
``save_freq`` batches, optionally only when the monitored value improves (Keras 3 logic)."""
from __future__ import annotations

import os
import warnings

from .monitor_callback import MonitorCallback
from .saving import MODEL_SUFFIX, WEIGHTS_SUFFIX


class ModelCheckpoint(MonitorCallback):
    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        self.save_freq = save_freq
        self._check_suffix()
        self._batches_since_saving = 0
        self._current_epoch = 0

    def _check_suffix(self):
        # Keras' .keras / .weights.h5 (and legacy .h5), or ember's own format.
        suffix = WEIGHTS_SUFFIX if self.save_weights_only else MODEL_SUFFIX
        keras_suffixes = (".weights.h5",) if self.save_weights_only else (".keras", ".h5")
        if not self.filepath.endswith((suffix,) + keras_suffixes):
            raise ValueError(f"ModelCheckpoint: with save_weights_only={self.save_weights_only}"
                             f" the filepath must end in `{suffix}`. Received: "
                             f"filepath={self.filepath}")

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_saving += 1
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _path(self, epoch, batch, logs) -> str:
        if batch is None or "batch" in logs:
            return self.filepath.format(epoch=epoch + 1, **logs)
        return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)

    def _save(self, epoch, batch, logs):
        filepath = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              "skipping.", stacklevel=2)
                return
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                previous = (("-inf" if self._direction() == "max" else "inf") if self.best is None
                            else f"{self.best:.5f}")
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
