"""keras.callbacks.LearningRateScheduler: at the start of every epoch sets the optimizer's
learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``, Keras' older signature) and
logs the rate as "learning_rate" at the epoch's end (Keras 3 logic)."""
from __future__ import annotations

import numpy as np

from .callbacks import Callback


class LearningRateScheduler(Callback):
    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"LearningRateScheduler: schedule must be callable. Received: "
                             f"schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:  # Keras' current signature first, then the one-argument one
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
