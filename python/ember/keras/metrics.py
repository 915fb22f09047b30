"""Keras metrics (``keras.metrics``): stateful means over batches, weighted by batch size.

Metric values are computed with NumPy from detached predictions (no gradients needed).
``"accuracy"``/``"acc"`` in ``compile`` resolve as Keras 3 does, from the shapes of the first
batch: a last prediction axis of 1 gives binary_accuracy, targets of lower rank (or with a last
axis of 1 against several classes) give sparse_categorical_accuracy, and one-hot targets give
categorical_accuracy. These are exactly the pairings with binary, sparse categorical and
categorical cross-entropy.
"""
from __future__ import annotations

import numpy as np

import ember
from .losses import squeeze_or_expand_to_same_rank


def _numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, ember.Tensor) else np.asarray(x)


def _same_rank(y_true, y_pred):
    t, p = squeeze_or_expand_to_same_rank(y_true.shape, y_pred.shape)
    return y_true.reshape(t), y_pred.reshape(p)


# ---- per-sample metric functions (NumPy in, NumPy out) ---------------------------------------
def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _numpy(y_true), _numpy(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _numpy(y_true), _numpy(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = _same_rank(_numpy(y_true), _numpy(y_pred))
    predicted = (y_pred > threshold).astype(y_true.dtype if y_true.dtype.kind == "f"
                                            else np.float32)
    return np.mean(predicted == y_true, axis=-1, dtype=np.float32)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _same_rank(_numpy(y_true).astype(np.float32), _numpy(y_pred))
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _same_rank(_numpy(y_true).astype(np.float32), _numpy(y_pred))
    return np.mean(np.abs(y_pred - y_true), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error


# ---- stateful metrics ------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state(y_true, y_pred)``, ``result()``, ``reset_state()``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        pass

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name):
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Mean(Metric):
    """Weighted mean of the values it is given (Keras' Mean)."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if type(values) is float and type(sample_weight) is int:  # a batch's loss, every step
            self.total += values * sample_weight
            self.count += sample_weight
            return
        values = np.asarray(_numpy(values), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            w = np.broadcast_to(np.asarray(_numpy(sample_weight), dtype=np.float64),
                                values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Mean over samples of a per-sample function ``fn(y_true, y_pred)``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class _ResolvedAccuracy(Metric):
    """What compile(metrics=["accuracy"]) becomes: the accuracy matching the first batch's
    shapes (Keras 3 rule), logged under the name the user gave."""

    def __init__(self, name):
        self._metric = None
        super().__init__(name=name)

    def reset_state(self):
        if self._metric is not None:
            self._metric.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._metric is None:
            self._metric = resolve_accuracy(np.shape(_numpy(y_true)), np.shape(_numpy(y_pred)),
                                            self.name)
        self._metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        return 0.0 if self._metric is None else self._metric.result()


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy") -> Metric:
    """Keras 3's choice of accuracy for "accuracy" from the target and prediction shapes."""
    t_rank, p_rank = len(y_true_shape), len(y_pred_shape)
    t_last = y_true_shape[-1] if t_rank else 1
    p_last = y_pred_shape[-1] if p_rank else 1
    if p_last == 1:
        return BinaryAccuracy(name=name)
    if t_rank < p_rank or (t_last == 1 and p_last > 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "binary_accuracy": BinaryAccuracy,
    "mean_squared_error": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mae": MeanAbsoluteError,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}


def get(identifier) -> Metric:
    """A fresh Metric from a name (logged under that name), a Metric instance, or a per-sample
    function ``f(y_true, y_pred)``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return _ResolvedAccuracy(identifier)
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            valid = sorted(list(_BY_NAME) + ["accuracy", "acc"])
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Valid "
                             f"names are: {', '.join(valid)}")
        return cls(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
