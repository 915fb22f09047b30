"""Keras callbacks (``keras.callbacks``): Callback, History, EarlyStopping, ProgbarLogger;
ModelCheckpoint and ReduceLROnPlateau live in their own files (they subclass Callback)."""
from __future__ import annotations

import shutil
import sys
import time
import warnings



class Callback:
    """Base class; ``fit`` calls these hooks with ``logs`` dicts of floats."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass  # Keras' older names for the two
    def on_batch_end(self, batch, logs=None): pass  # hooks below, which call them

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls every callback's hook in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        # Keras passes logs (None too) to every hook: positionally, and by keyword to the
        # batch hooks, so user hooks may declare ``logs`` without a default.
        if hook.endswith(("_batch_begin", "_batch_end")):
            def call_all(batch, logs=None):
                for cb in self.callbacks:
                    getattr(cb, hook)(batch, logs=logs)
        elif hook in ("on_epoch_begin", "on_epoch_end"):
            def call_all(epoch, logs=None):
                for cb in self.callbacks:
                    getattr(cb, hook)(epoch, logs)
        else:
            def call_all(logs=None):
                for cb in self.callbacks:
                    getattr(cb, hook)(logs)
        return call_all


class History(Callback):
    """Records the epoch logs: ``history`` maps each key ("loss", "val_loss", ...) to a list with
    one value per epoch; ``epoch`` lists the epoch indices. ``fit`` returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs (Keras 3 logic, including ``restore_best_weights``)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max'. "
                             f"Received: mode={mode!r}")
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0. Received: "
                             f"patience={patience!r}")
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "accuracy", "auc")) else "min"
        self.mode = mode
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _improved(self, value, reference):
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {', '.join(logs or {})}",
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


def _bar_size() -> dict:
    # tqdm cannot always query a pseudo-terminal's size (it then draws nothing); shutil falls
    # back to $COLUMNS/$LINES or 100x24.
    size = shutil.get_terminal_size((100, 24))
    # Keras-like: "15/15 |████████████████████| 00:01, loss: 0.6249 - accuracy: 0.6689".
    return {"ncols": size.columns, "nrows": size.lines,
            "bar_format": "{n_fmt}/{total_fmt} |{bar:20}| {elapsed}{postfix}"}


def format_logs(logs) -> str:
    # Keras' progress bar shows the mean of a per-class (array) metric.
    return " - ".join(f"{k}: {sum(v) / len(v) if hasattr(v, '__len__') else v:.4f}"
                      for k, v in logs.items())


class ProgbarLogger(Callback):
    """fit's progress display. verbose=1 on a terminal: "Epoch i/n" then a tqdm bar whose
    postfix shows the running logs; otherwise (verbose=2, or verbose=1 without a terminal) one
    line per epoch: "Epoch i/n - 1s - loss: 0.3254 - accuracy: 0.9080 - val_loss: ...".
    As in Keras, ``ProgbarLogger()`` takes fit's ``verbose`` (0 shows nothing), and fit adds
    none of its own when the callbacks hold one."""

    def __init__(self, verbose=None, file=None):
        super().__init__()
        self._verbose_arg = verbose
        self.verbose = 1 if verbose is None else verbose
        self.file = file
        self._bar = None
        self._start = 0.0

    def set_params(self, params):
        super().set_params(params)
        if self._verbose_arg is None:
            self.verbose = params.get("verbose", 1)

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _interactive(self):
        stream = self._stream()
        return self.verbose == 1 and hasattr(stream, "isatty") and stream.isatty()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        if self._interactive():
            from tqdm.auto import tqdm

            print(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}", file=self._stream())
            self._bar = tqdm(total=self.params.get("steps"), file=self._stream(), unit="step",
                             leave=True, **_bar_size())

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if not self.verbose:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}))
            self._bar.close()
            self._bar = None
            return
        epochs = self.params.get("epochs", 1)
        parts = [f"Epoch {epoch + 1}/{epochs}", f"{elapsed:.0f}s"]
        if logs:
            parts.append(format_logs(logs))
        print(" - ".join(parts), file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# Their modules subclass Callback from this one, so they can only be imported after it.
from .backup_and_restore import BackupAndRestore  # noqa: E402
from .csv_logger import CSVLogger  # noqa: E402
from .lambda_callback import LambdaCallback  # noqa: E402
from .learning_rate_scheduler import LearningRateScheduler  # noqa: E402
from .model_checkpoint import ModelCheckpoint  # noqa: E402
from .reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: E402
from .tensorboard_callback import TensorBoard  # noqa: E402
from .terminate_on_nan import TerminateOnNaN  # noqa: E402

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN"]
