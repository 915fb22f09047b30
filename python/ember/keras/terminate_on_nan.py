"""keras.callbacks.TerminateOnNaN: stops training (or raises, with raise_error=True) at the
first batch whose loss is NaN or infinite."""
from __future__ import annotations

import math

from .callbacks import Callback


class TerminateOnNaN(Callback):
    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
