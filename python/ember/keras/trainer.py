"""The training half of keras.Model (as Keras 3's Trainer): compile, fit, evaluate, predict
and the *_on_batch methods, for models with one or several inputs and outputs.

Training runs the model in ``train()`` mode (dropout on); evaluate and predict run it in
``eval()`` mode under ``ember.no_grad()``. The losses and metrics are Keras' (losses.py,
metrics.py), combined per output by compile_utils.py; data handling is in data_adapter.py.
Logged values are means over the epoch's batches weighted by batch size.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time
import warnings

import numpy as np

import ember
from . import callbacks as callbacks_module
from . import compile_utils, custom_train_step, data_adapter
from . import distribution as distribution_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .compile_utils import CompileLoss, CompileMetrics, align_targets, check_flat, flatten
from .compile_utils import is_nested
from .data_parallel_fit import DataParallelFit
from .data_adapter import map_data, slice_data
from .epoch_iterator import (EpochIterator, check_steps, is_batched, is_data_loader, kind_of,
                             warn_if_shuffle_ignored)
from .layers import call_context
from .py_dataset import PyDataset, epoch_of, split_batch
from .sample_weights import per_sample_weights
from .training_losses import total_loss


def _batch_len(data) -> int:
    return len(data) if type(data) is np.ndarray else len(flatten(data)[0])


def _num_steps(x, batch_size):
    """Batches per pass: None for a generator (or a DataLoader without a length)."""
    if isinstance(x, PyDataset):
        return x.num_batches
    if is_data_loader(x):
        try:
            return len(x)
        except TypeError:  # over an IterableDataset
            return None
    if is_batched(x):
        return None
    return math.ceil(_batch_len(x) / batch_size)


def _has_own_train_step(model) -> bool:
    """A subclassed model with its own train_step (custom_train_step.py)."""
    return type(model).train_step is not Trainer.train_step


def _watches(callbacks, *hooks) -> bool:
    """Whether a callback defines one of ``hooks`` (a no-op base hook ignores its logs, so the
    logs need not be computed); a LambdaCallback sets them on the instance."""
    base = callbacks_module.Callback
    return any(getattr(type(c), h, None) is not getattr(base, h) or h in vars(c)
               for c in callbacks for h in hooks)


def _validation_freq(validation_freq):
    if isinstance(validation_freq, list):
        return validation_freq
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, numbers.Integral) \
            or validation_freq < 1:
        raise ValueError("Expected `validation_freq` to be a list or a positive int. Received: "
                         f"validation_freq={validation_freq!r} of the type "
                         f"{type(validation_freq)}.")
    return int(validation_freq)


def _should_eval(epoch, validation_freq) -> bool:
    epoch += 1  # the user-facing epoch number
    if isinstance(validation_freq, list):
        return epoch in validation_freq
    return epoch % validation_freq == 0


def _not_supported(method, **options):
    for name, value in options.items():
        if value is not None:
            raise NotImplementedError(f"Model.{method}: argument `{name}` is not supported by "
                                      "ember")


def _by_shape(loss) -> bool:
    """"crossentropy"/"ce": Keras picks the cross-entropy from the first batch's shapes."""
    return isinstance(loss, str) and loss.lower() in ("crossentropy", "ce")


def _detach(y_pred):
    if isinstance(y_pred, ember.Tensor):
        return y_pred.detach()
    return map_data(lambda t: t.detach(), y_pred)


def _to_numpy(y_pred):
    return y_pred.numpy() if isinstance(y_pred, ember.Tensor) else map_data(
        lambda t: t.numpy(), y_pred)


class Trainer:
    """compile / fit / evaluate / predict; mixed into keras.Model (which calls
    ``_init_trainer`` and provides ``_check_input`` and ``_check_structured_input``)."""

    def _init_trainer(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_obj = None
        self._metrics = []
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._saveable_compile = True

    # ---- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training. ``loss``: one loss for every output, a list (one per output) or
        a dict keyed by output name, None entries for outputs without a loss;
        ``loss_weights``: a float, list or dict; ``metrics``: a list, a list of lists or a dict
        (see compile_utils.py for how Keras 3 maps them to outputs); ``weighted_metrics``:
        the same forms, updated with fit/evaluate's sample weights. run_eagerly,
        steps_per_execution, jit_compile and auto_scale_loss are accepted for compatibility
        and do not change results in ember."""
        output_names = getattr(self, "output_names", None)  # Functional models have them
        if loss is None and self._compile_loss is not None:
            loss = self.loss  # as Keras: compiling again without a loss keeps the earlier one
            compile_loss = self._compile_loss
        else:
            compile_loss = None if loss is None else CompileLoss(loss, loss_weights, output_names)
        compile_metrics = CompileMetrics(metrics, output_names, weighted_metrics)
        # Unknown names fail here, not at the first batch.
        for entry in flatten(loss):
            if entry is not None and not _by_shape(entry):
                losses_module.get(entry)
        flat_metrics = [m for entry in flatten(metrics or []) for m in flatten(entry)]
        checked = [metrics_module.get(m) for m in flat_metrics if m is not None]
        checked += [metrics_module.get(m) for entry in flatten(weighted_metrics or [])
                    for m in flatten(entry) if m is not None]
        self.optimizer = optimizers_module.get(optimizer)
        # What clone_model (compile_copy.py) needs to compile a clone the same way.
        self._compile_arguments = {"loss": loss, "loss_weights": loss_weights,
                                   "metrics": metrics, "weighted_metrics": weighted_metrics}
        self.loss = loss
        self._loss_obj = (None if loss is None or is_nested(loss) or _by_shape(loss)
                          else losses_module.get(loss))
        self._metrics = checked
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = metrics_module.Mean(name="loss")
        # What saving.py can store: one loss by name or class, and a flat list of metrics.
        self._saveable_compile = (not is_nested(loss) and loss_weights is None
                                  and not weighted_metrics
                                  and len(flat_metrics) == len(flatten(metrics or []))
                                  and not isinstance(metrics, dict) and None not in flat_metrics)
        self.compiled = True

    @property
    def metrics_names(self):
        """The names of evaluate()'s list entries (ember keeps Keras 2's meaning)."""
        if self._compile_metrics is None or not self._compile_metrics.built:
            return ["loss"] + [m.name for m in self._metrics]
        return compile_utils.names_in_order(self._logs(), self._compile_metrics,
                                            self._compile_loss)

    def _check_no_output_mask(self):
        if getattr(self, "_output_mask", None) is not None:
            raise NotImplementedError(
                "The model's output carries a mask (Embedding(mask_zero=True) followed by "
                "layers that return sequences); Keras would leave the masked steps out of the "
                "loss and metrics, which ember does not support. End the model with a layer "
                "that drops the time axis (e.g. an LSTM with return_sequences=False).")

    def _sparse_targets(self) -> bool:
        loss = self._loss_obj
        return getattr(loss, "fn", None) is losses_module.sparse_categorical_crossentropy

    def _assert_compiled(self, method: str):
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before calling `{method}()`.")

    def _prepare_x(self, x, method: str, alone=True):
        if x is None:
            raise ValueError(f"{method}: argument `x` is required")
        if type(x) is not np.ndarray or x.dtype.kind not in "biuf":
            x = data_adapter.as_arrays(x, "x")
        if type(x) is np.ndarray:  # one input: the common case
            if x.ndim == 0:
                raise ValueError(f"{method}: x must have a batch axis. Received x with shape ()")
            x = data_adapter.as_input(x)
            self._check_input(x)
            return x
        if alone:  # (with y, the sample counts are checked together)
            data_adapter.num_samples(method, x)
        data_adapter.check_input_names(x, getattr(self, "input_names", None), method)
        self._check_structured_input(x)
        return data_adapter.as_inputs(x)

    def _prepare_data(self, x, y, method: str):
        """(x, y) ready for batching: arrays as _prepare_xy makes them, or a PyDataset, a
        generator or a DataLoader (whose batches are prepared one by one)."""
        if not is_batched(x):
            return self._prepare_xy(x, y, method)
        if y is not None:
            kind = kind_of(x)
            raise ValueError(f"{method}: when providing `x` as a {kind}, `y` should not be "
                             "passed. Instead, the targets should be included as part of "
                             f"the {kind}.")
        return x, None

    def _prepare_batch(self, batch, method, class_weight=None):
        """A PyDataset's, generator's or DataLoader's batch as (x, y, sample weights)."""
        xb, yb, swb = split_batch(batch, method)
        if method == "predict":
            return self._prepare_x(xb, method), None, None
        xb, yb = self._prepare_xy(xb, yb, method)
        if swb is not None or class_weight is not None:
            swb = per_sample_weights(method, yb, _batch_len(xb), None if swb is None else
                                     data_adapter.as_array(swb, "sample_weight"), class_weight)
        return xb, yb, swb

    def _epoch_iterator(self, x, y, batch_size, shuffle, method, sw=None, steps=None):
        return EpochIterator(lambda: self._epoch_batches(x, y, batch_size, shuffle, method, sw),
                             _num_steps(x, batch_size), steps,
                             x if isinstance(x, PyDataset) else None)

    def _epoch_batches(self, x, y, batch_size, shuffle, method, sw=None):
        """The (x, y, sample weights) batches of one pass: slices of the arrays (and of their
        weights ``sw``; in a random order with shuffle), or a PyDataset's, generator's or
        DataLoader's batches, each prepared as arrays are (``sw`` is then a PyDataset's
        class_weight dict, applied batch by batch)."""
        if is_batched(x):
            # A generator is its own one pass (shuffled by its author, as in Keras).
            source = (epoch_of(x, shuffle) if isinstance(x, PyDataset) else
                      iter(x) if is_data_loader(x) else x)
            for batch in source:
                yield self._prepare_batch(batch, method, sw)
            return
        n = _batch_len(x)
        order = ember.randperm(n).numpy() if shuffle else None
        for idx in data_adapter.batches(n, batch_size, order):
            yield slice_data(x, idx), slice_data(y, idx), slice_data(sw, idx)

    def _sample_weights(self, method, x, y, sample_weight, class_weight):
        if sample_weight is None and class_weight is None:
            return None
        if is_batched(x):  # (Keras' errors)
            kind = kind_of(x)
            if sample_weight is not None:
                raise ValueError(f"When providing `x` as a {kind}, `sample_weights` should not "
                                 "be passed. Instead, the sample weights should be included "
                                 f"as part of the {kind}.")
            if kind != "PyDataset":
                raise ValueError(f"Argument `class_weight` is not supported for {kind} inputs; "
                                 "yield (x, y, sample_weight) batches instead. Received: "
                                 f"class_weight={class_weight}")
            return class_weight  # applied to each batch (see _epoch_batches)
        return per_sample_weights(method, y, _batch_len(x), sample_weight, class_weight)

    def _check_structured_input(self, x):
        """Subclassed models take any structure; Sequential overrides this."""

    def _prepare_xy(self, x, y, method: str):
        x = self._prepare_x(x, method, alone=False)
        if y is None:  # Keras: a model trained by add_loss alone needs no targets
            if self._compile_loss is not None or self._metrics:
                raise ValueError(f"{method}: argument `y` is required (targets for the "
                                 "compiled loss and metrics)")
            if type(x) is not np.ndarray:
                data_adapter.num_samples(method, x)
            return x, None
        if type(y) is not np.ndarray or y.dtype.kind not in "biuf":
            y = data_adapter.as_arrays(y, "y")
        if type(x) is np.ndarray and type(y) is np.ndarray:  # one input, one output
            if y.ndim == 0 or len(x) != len(y):
                raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain "
                                 f"the same number of samples. 'x' sizes: {len(x)} (shape "
                                 f"{x.shape}); 'y' sizes: {len(y) if y.ndim else 0} (shape "
                                 f"{y.shape})")
            if self._sparse_targets():
                if y.dtype.kind == "f" and not np.all(y == np.round(y)):
                    raise ValueError("sparse_categorical_crossentropy needs integer class "
                                     "labels in y; received non-integer values")
                return x, np.ascontiguousarray(y, dtype=np.int64)
            return x, np.ascontiguousarray(y, dtype=np.float32)
        data_adapter.num_samples(method, x, y)
        return x, data_adapter.as_targets(y)

    # ---- steps -------------------------------------------------------------------------------
    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        for m in self._compile_metrics.metrics:
            m.reset_state()
        if self._compile_loss is not None:
            for tracker in self._compile_loss.metrics:
                tracker.reset_state()

    def _logs(self):
        return compile_utils.collect_logs(self._loss_tracker, self._compile_metrics,
                                          self._compile_loss)

    @property
    def metrics(self):
        """The metrics fit resets at each epoch: the loss tracker and the compiled metrics (a
        model with its own train_step lists its trackers here, as in Keras)."""
        if not self.compiled:
            return []
        loss_trackers = [] if self._compile_loss is None else self._compile_loss.metrics
        return [self._loss_tracker, *self._compile_metrics.metrics, *loss_trackers]

    def reset_metrics(self):
        custom_train_step.reset_metrics(self)

    def train_step(self, data):
        """One step on ``data`` ((x,), (x, y) or (x, y, sample_weight), or x alone); returns
        the logs. Subclasses override it to train their own way (custom_train_step.py)."""
        xb, yb, swb = split_batch(data, "train_step")
        as_array = lambda t: t.detach().numpy() if isinstance(t, ember.Tensor) else t  # noqa: E731
        self._train_batch(*(None if part is None else map_data(as_array, part)
                            for part in (xb, yb, swb)))
        return self._logs()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of a batch (the weighted sum over outputs) plus ``self.losses``; y
        in the structure of y_pred. Subclasses may override it, as in Keras."""
        loss = (None if self._compile_loss is None
                else self._compile_loss(y, y_pred, sample_weight))
        loss = total_loss(self, loss)  # Keras: plus model.losses (add_loss, penalties)
        if loss is None:  # neither a compiled loss nor add_loss / regularization losses
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return loss

    def _forward_loss(self, xb, yb, training, sample_weight=None):
        """(loss, targets in the output's structure, outputs, batch size) of one batch."""
        if type(xb) is np.ndarray and xb.dtype.kind in "biuf":
            x, n = ember.from_numpy(xb), len(xb)
        else:
            x, n = data_adapter.to_tensors(xb), len(flatten(xb)[0])
        y_pred = self(x)
        self._check_no_output_mask()
        if yb is not None and (type(yb) is not np.ndarray or
                               not isinstance(y_pred, ember.Tensor)):
            check_flat(y_pred)
            compiled = self._compile_loss
            names = (getattr(self, "output_names", None) if compiled is None
                     else compiled.output_names)
            user_loss = None if compiled is None else compiled.user_loss
            yb = align_targets(yb, y_pred, names, user_loss)
            if is_nested(sample_weight):  # one array per output, arranged as the targets
                sample_weight = align_targets(sample_weight, y_pred, names, user_loss)
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        loss = self.compute_loss(x, yb, y_pred, training=training, **weighted)
        return loss, yb, y_pred, n

    def _train_batch(self, xb, yb, sample_weight=None):
        """One step; the caller has put the model in training mode (_training_mode)."""
        loss, yb, y_pred, n = self._forward_loss(xb, yb, True, sample_weight)
        params = list(self.parameters())
        if any(p.requires_grad for p in params):
            if not self.optimizer.built:
                self.optimizer.build(params)
            for p in params:
                p.grad = None
            loss.backward()
            self.optimizer.step(params)
        else:  # as Keras: the step only computes the loss and metrics
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=n)
        if yb is not None:
            self._compile_metrics.update_state(yb, _detach(y_pred), sample_weight)

    def _test_batch(self, xb, yb, sample_weight=None):
        loss, yb, y_pred, n = self._forward_loss(xb, yb, False, sample_weight)
        self._loss_tracker.update_state(float(loss.item()), sample_weight=n)
        if yb is not None:
            self._compile_metrics.update_state(yb, y_pred, sample_weight)

    def _run_test(self, x, y, batch_size, progress=None, sw=None, iterator=None, cb=None):
        """One evaluation pass (over ``iterator`` when given: evaluate's steps, fit's
        validation_steps), calling the test hooks of the CallbackList ``cb``."""
        if iterator is None:
            iterator = self._epoch_iterator(x, y, batch_size, False, "evaluate", sw)
        batches = iterator.epoch()
        if batches is None:  # a generator with nothing left
            return None
        self._reset_metrics()
        batch_logs = cb is not None and _watches(cb.callbacks, "on_test_batch_end")
        if cb is not None:
            cb.on_test_begin()
        was_training = self.training
        self.eval()
        try:
            with ember.no_grad(), call_context.inference():
                for step, (xb, yb, swb) in batches:
                    if cb is not None:
                        cb.on_test_batch_begin(step)
                    self._test_batch(xb, yb, swb)
                    if cb is not None:
                        cb.on_test_batch_end(step, self._logs() if batch_logs else None)
                    if progress is not None:
                        progress.update(1)
        finally:
            self.train(was_training)
        logs = self._logs()
        if cb is not None:
            cb.on_test_end(logs)
        return logs

    def _result(self, logs, return_dict):
        """evaluate's and *_on_batch's return value: the logs dict or Keras' ordered list."""
        if return_dict:
            return logs
        return compile_utils.flatten_in_order(logs, self._compile_metrics, self._compile_loss)

    # ---- fit / evaluate / predict ------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns the History callback (``history.history`` has
        "loss", each metric name, and "val_"-prefixed ones when validating). x and y may be
        lists or dicts of arrays for models with several inputs or outputs."""
        self._assert_compiled("fit")
        verbose = data_adapter.resolve_verbose(verbose)
        batch_size = data_adapter.check_batch_size(batch_size)
        val_batch_size = data_adapter.check_batch_size(validation_batch_size, batch_size)
        steps_per_epoch = check_steps("steps_per_epoch", steps_per_epoch)
        validation_steps = check_steps("validation_steps", validation_steps)
        if shuffle not in (True, False):
            raise NotImplementedError(f"fit: shuffle={shuffle!r} is not supported by ember "
                                      "(use True or False)")
        validation_freq = _validation_freq(validation_freq)
        x, y = self._prepare_data(x, y, "fit")
        warn_if_shuffle_ignored(x, shuffle, _num_steps(x, batch_size))
        sw = self._sample_weights("fit", x, y, sample_weight, class_weight)
        val = None
        if is_batched(validation_data):
            val = (validation_data, None)
        elif validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_validation_data(validation_data)
            vx, vy = self._prepare_xy(vx, vy, "fit")
            val = (vx, vy, self._sample_weights("fit", vx, vy, vsw, None))
        elif validation_split:
            if is_batched(x):
                raise ValueError("fit: validation_split is only supported for Tensors or NumPy "
                                 "arrays, not for a PyDataset, a generator or a DataLoader; "
                                 "pass validation_data instead")
            n = _batch_len(x)
            (x, y), val = data_adapter.split_validation(x, y, n, validation_split)
            if sw is not None:
                (sw, _), (val_sw, _) = data_adapter.split_validation(sw, None, n,
                                                                     validation_split)
                # Keras weighs validation samples by sample_weight, never by class_weight
                val = (*val, val_sw if class_weight is None else None)
        # As Keras: one iterator per fit, so that a generator (or steps_per_epoch) continues
        # from epoch to epoch; the validation one likewise with validation_steps.
        if _has_own_train_step(self):
            train_iterator = custom_train_step.epoch_iterator(
                x, y, sw, batch_size, shuffle, steps_per_epoch, _num_steps(x, batch_size))
        else:
            train_iterator = self._epoch_iterator(x, y, batch_size, shuffle, "fit", sw,
                                                  steps_per_epoch)
        val_iterator = None if val is None else self._epoch_iterator(
            val[0], val[1], val_batch_size, False, "evaluate", (val[2:] or (None,))[0],
            validation_steps)

        parallel = None  # the data-parallel step inside a keras.distribution.DataParallel scope
        if distribution_module.distribution() is not None:
            if _has_own_train_step(self):  # its gradients would not be averaged
                raise NotImplementedError("fit: a model with its own train_step is not "
                                          "supported under keras.distribution.DataParallel")
            parallel = DataParallelFit(self)
            verbose, callbacks = parallel.verbose(verbose), parallel.callbacks(callbacks or [])
        cbs = list(callbacks or [])
        history = next((c for c in cbs if isinstance(c, callbacks_module.History)), None)
        if history is None:
            history = callbacks_module.History()
            cbs.append(history)
        if verbose and not any(isinstance(c, callbacks_module.ProgbarLogger) for c in cbs):
            cbs.append(callbacks_module.ProgbarLogger())  # last, as Keras: it shows every log
        cb = callbacks_module.CallbackList(cbs, self, {"verbose": verbose, "epochs": epochs,
                                                      "steps": train_iterator.num_batches})
        self.stop_training = False
        self.history = history
        self._initial_epoch = None
        cb.on_train_begin()
        # BackupAndRestore sets _initial_epoch to the epoch it restored.
        initial_epoch = self._initial_epoch or initial_epoch
        with _training_mode(self):
            logs = self._fit_epochs(cb, train_iterator, initial_epoch, epochs, val_iterator,
                                    validation_freq, parallel)
        cb.on_train_end(logs)
        return history

    def _fit_epochs(self, cb, train_iterator, initial_epoch, epochs, val_iterator,
                    validation_freq, parallel=None):
        logs = {}
        train_batch = self._train_batch if parallel is None else parallel.train_batch
        # Batch logs only for callbacks that look at them.
        batch_logs = _watches(cb.callbacks, "on_train_batch_end", "on_batch_end")
        custom = _has_own_train_step(self)
        for epoch in range(initial_epoch, epochs):
            batches = train_iterator.epoch()
            if batches is None:  # an exhausted generator: see epoch_iterator.py
                break
            if custom:
                self.reset_metrics()  # (Keras: every metric in model.metrics)
            else:
                self._reset_metrics()
            cb.on_epoch_begin(epoch)
            step_logs = {}
            for step, (xb, yb, swb) in batches:
                cb.on_train_batch_begin(step)
                if custom:  # the model's own train_step, given the batch as Keras gives it
                    step_logs = custom_train_step.step_logs(self, self.train_step(xb))
                else:
                    train_batch(xb, yb, swb)
                cb.on_train_batch_end(step, (step_logs if custom else self._logs())
                                      if batch_logs else None)
                if self.stop_training:
                    break
            logs = dict(step_logs) if custom else self._logs()
            if val_iterator is not None and _should_eval(epoch, validation_freq):
                val_logs = self._run_test(None, None, None, iterator=val_iterator, cb=cb)
                if val_logs is not None:
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                    logs = dict(sorted(logs.items()))  # (Keras' logs are sorted by key)
            cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss (a float) when it is the only value, else a list in Keras' order
        (``metrics_names``): loss, the metrics, the per-output losses; a dict with
        return_dict=True."""
        self._assert_compiled("evaluate")
        verbose = data_adapter.resolve_verbose(verbose)
        batch_size = data_adapter.check_batch_size(batch_size)
        steps = check_steps("steps", steps)
        x, y = self._prepare_data(x, y, "evaluate")
        sw = self._sample_weights("evaluate", x, y, sample_weight, None)
        iterator = self._epoch_iterator(x, y, batch_size, False, "evaluate", sw, steps)
        cb = callbacks_module.CallbackList(callbacks or [], self, {
            "verbose": verbose, "epochs": 1, "steps": iterator.num_batches})
        with _Progress(verbose, iterator.num_batches) as progress:
            logs = self._run_test(x, y, batch_size, progress, sw, iterator, cb)
            if logs is None:
                raise ValueError("evaluate: x has no data left (an exhausted generator)")
            progress.logs = logs
        return self._result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` (eval mode, no gradients): one NumPy array, or the
        list/tuple/dict of arrays the model returns."""
        verbose = data_adapter.resolve_verbose(verbose)
        batch_size = data_adapter.check_batch_size(batch_size)
        steps = check_steps("steps", steps)
        if not is_batched(x):
            x = self._prepare_x(x, "predict")
            if _batch_len(x) == 0 and type(x) is not np.ndarray:
                raise ValueError("predict: x has no samples")
        iterator = self._epoch_iterator(x, None, batch_size, False, "predict", steps=steps)
        cb = callbacks_module.CallbackList(callbacks or [], self, {
            "verbose": verbose, "epochs": 1, "steps": iterator.num_batches})
        outputs = []
        was_training = self.training
        self.eval()
        cb.on_predict_begin()
        try:
            with _Progress(verbose, iterator.num_batches) as progress, ember.no_grad(), \
                    call_context.inference():
                for step, (xb, _, _) in iterator.epoch() or ():
                    cb.on_predict_batch_begin(step)
                    outputs.append(_to_numpy(self(data_adapter.to_tensors(xb))))
                    cb.on_predict_batch_end(step, {"outputs": outputs[-1]})
                    progress.update(1)
        finally:
            self.train(was_training)
        cb.on_predict_end()
        if not outputs:
            return np.zeros((0,), np.float32)
        if type(outputs[0]) is np.ndarray:
            return np.concatenate(outputs, axis=0)
        check_flat(outputs[0])
        first = outputs[0]
        if isinstance(first, dict):
            return {key: np.concatenate([o[key] for o in outputs], axis=0) for key in first}
        return type(first)(np.concatenate([o[i] for o in outputs], axis=0)
                           for i in range(len(first)))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) of that batch."""
        self._assert_compiled("train_on_batch")
        x, y = self._prepare_xy(x, y, "train_on_batch")
        sw = self._sample_weights("train_on_batch", x, y, sample_weight, class_weight)
        if _has_own_train_step(self):
            self.reset_metrics()
            with _training_mode(self):
                logs = custom_train_step.step_logs(self, self.train_step(
                    custom_train_step.as_tensors((x, y, sw))))
            values = list(logs.values())  # (Keras: one value alone, else a list)
            return logs if return_dict else values[0] if len(values) == 1 else values
        self._reset_metrics()
        with _training_mode(self):
            self._train_batch(x, y, sw)
        return self._result(self._logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        x, y = self._prepare_xy(x, y, "test_on_batch")
        sw = self._sample_weights("test_on_batch", x, y, sample_weight, None)
        logs = self._run_test(x, y, max(_batch_len(x), 1), sw=sw)
        return self._result(logs, return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch: predict without its batching loop and progress bar (the
        batch-1 latency path)."""
        x = self._prepare_x(x, "predict_on_batch")
        if _batch_len(x) == 0:
            return self.predict(x, batch_size=1, verbose=0)
        was_training = self.training
        if was_training:
            self.eval()
        try:
            with ember.no_grad(), call_context.inference():
                return _to_numpy(self(data_adapter.to_tensors(x)))
        finally:
            if was_training:
                self.train()


class _Progress:
    """evaluate/predict progress: a tqdm bar for verbose=1 on a terminal, else one line."""

    def __init__(self, verbose, steps):
        self.verbose, self.steps, self.logs = verbose, steps, None
        self.done = 0  # (the count shown when the data's length is unknown: a generator)
        self.bar = None
        if verbose == 1 and sys.stdout.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=steps, file=sys.stdout, unit="step", leave=True,
                            **callbacks_module._bar_size())

    def update(self, n):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            if self.bar is not None:
                self.bar.close()
            return False
        text = callbacks_module.format_logs(self.logs) if self.logs else ""
        if self.bar is not None:
            if text:
                self.bar.set_postfix_str(text)
            self.bar.close()
        elif self.verbose:
            elapsed = time.perf_counter() - self.start
            steps = self.done if self.steps is None else self.steps
            print(" - ".join(p for p in (f"{steps}/{steps}", f"{elapsed:.0f}s", text)
                             if p), flush=True)
        return False


@contextlib.contextmanager
def _training_mode(model):
    """The model in training mode for fit/train_on_batch, its previous mode restored after
    (Keras models are in inference mode otherwise)."""
    was_training = model.training
    model.train()
    try:
        yield
    finally:
        model.train(was_training)
