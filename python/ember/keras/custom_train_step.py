"""A subclassed keras.Model's own ``train_step(data)`` (Keras 3's "Customizing what happens in
fit()" with the torch backend): fit hands each batch to it as Keras does and logs the dict it
returns. The GAN idiom of keras-io's torch guide runs unchanged:

    def train_step(self, data):
        ...
        self.zero_grad()
        loss = self.loss_fn(labels, self.discriminator(images))
        loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
        return {"d_loss": ...}

``data`` is what Keras passes: for arrays, x alone when fit has no y, else the tuple (x, y) or
(x, y, sample_weight), as ember tensors; a DataLoader's, PyDataset's or generator's batch as it
comes (NumPy arrays in it made tensors). fit resets ``model.metrics`` at each epoch start.
"""
from __future__ import annotations

import numbers

import numpy as np

import ember
from .compile_utils import flatten
from .data_adapter import batches, slice_data
from .epoch_iterator import EpochIterator, is_batched, is_data_loader
from .py_dataset import PyDataset, epoch_of


def as_tensors(data):
    """NumPy arrays (anywhere in tuples, lists, dicts) as ember tensors, as Keras' torch
    backend hands train_step torch tensors."""
    if isinstance(data, np.ndarray):
        return ember.from_numpy(np.ascontiguousarray(data))
    if isinstance(data, (tuple, list)):
        return type(data)(as_tensors(d) for d in data)
    if isinstance(data, dict):
        return {k: as_tensors(v) for k, v in data.items()}
    return data


def _raw_batches(x, y, sample_weight, batch_size, shuffle):
    """One pass over the data as train_step sees it (see the module docstring)."""
    if is_batched(x):
        source = (epoch_of(x, shuffle) if isinstance(x, PyDataset) else
                  iter(x) if is_data_loader(x) else x)
        for batch in source:
            yield as_tensors(batch), None, None
        return
    n = len(x) if type(x) is np.ndarray else len(flatten(x)[0])
    order = ember.randperm(n).numpy() if shuffle else None
    for idx in batches(n, batch_size, order):
        parts = [slice_data(part, idx) for part in (x, y, sample_weight)]
        while parts[-1] is None and len(parts) > 1:
            parts.pop()
        yield as_tensors(parts[0] if len(parts) == 1 else tuple(parts)), None, None


def epoch_iterator(x, y, sample_weight, batch_size, shuffle, steps, num_steps):
    """fit's EpochIterator when the model has its own train_step."""
    return EpochIterator(lambda: _raw_batches(x, y, sample_weight, batch_size, shuffle),
                         num_steps, steps, x if isinstance(x, PyDataset) else None)


def _log_value(value):
    """A logged value as a Python float (a 0-d tensor or array, a metric's result)."""
    if isinstance(value, ember.Tensor):
        value = value.detach().numpy()
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(()))
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def step_logs(model, logs, method="train_step"):
    """train_step's return value checked and made loggable: a dict of floats."""
    if not isinstance(logs, dict):
        raise TypeError(f"{type(model).__name__}.{method}() must return a dict of logs (metric "
                        f"name -> value), as in Keras. Received: {type(logs).__name__}")
    return {name: _log_value(value) for name, value in logs.items()}


def reset_metrics(model):
    """Keras' Model.reset_metrics: every metric in ``model.metrics`` back to its start."""
    for metric in model.metrics:
        metric.reset_state()
