"""keras.callbacks.BackupAndRestore: backs up the training state (weights, optimizer state and
the epoch reached) every epoch or every ``save_freq`` batches, and restores it at the start of
the next ``fit`` so that an interrupted run resumes where it stopped (Keras 3 logic).

Keras writes ``latest.weights.h5`` plus ``training_metadata.json``; ember writes one
``latest.ember`` file (ember's safe format, written atomically) holding both, so a run killed
while saving leaves the previous backup whole. The optimizer state is part of the file because
Keras' weights files carry it too: the resumed run continues exactly."""
from __future__ import annotations

import os
import shutil

import numpy as np

import ember
from .callbacks import Callback
from .saving import _optimizer_state, _restore_optimizer

_FORMAT = "ember.keras.backup"


class BackupAndRestore(Callback):
    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq is False:
            raise NotImplementedError("BackupAndRestore: save_freq=False (saving only before a "
                                      "preemption) is not supported by ember; use 'epoch' or "
                                      "an integer")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._backup_path = os.path.join(self.backup_dir, "latest.ember")
        self._prev_backup_path = self._backup_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # ---- restore -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built "
                             f"before you call `fit()`. Model {self.model} is unbuilt. You can "
                             "build it beforehand by calling it on a batch of data.")
        try:
            self._restore(self._backup_path)
        except (OSError, ValueError) as err:  # a damaged file: fall back to the previous one
            if not os.path.exists(self._prev_backup_path):
                raise
            try:
                self._restore(self._prev_backup_path)
            except (OSError, ValueError):
                raise err from None
            _copy(self._prev_backup_path, self._backup_path)

    def _restore(self, path):
        if not os.path.exists(path):
            return
        data = ember.load(path)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"BackupAndRestore: {path} is not a backup written by ember's "
                             "BackupAndRestore")
        epoch = data.get("epoch")
        weights = data.get("weights")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0 \
                or not isinstance(weights, list) \
                or not all(isinstance(w, np.ndarray) for w in weights):
            raise ValueError(f"BackupAndRestore: {path} has an invalid structure")
        self.model.set_weights(weights)
        if data.get("optimizer") is not None and self.model.optimizer is not None:
            _restore_optimizer(self.model, data["optimizer"], path)
        self.model._initial_epoch = epoch

    # ---- backup ------------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # As Keras: count the batches since the last save across epoch boundaries.
        if batch <= self._last_batch_seen:
            self._batches_seen_since_last_saving += batch + 1
        else:
            self._batches_seen_since_last_saving += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._backup_path):
            _copy(self._backup_path, self._prev_backup_path)
        ember.save({"format": _FORMAT, "epoch": self._current_epoch,
                    "batch": self._last_batch_seen, "weights": self.model.get_weights(),
                    "optimizer": _optimizer_state(self.model)}, self._backup_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _copy(source, target):
    """Copies through a temporary file renamed over ``target``: a run killed while copying
    never leaves a truncated backup."""
    tmp = f"{target}.{os.getpid()}.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
