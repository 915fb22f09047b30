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
from ..layers.layer import unique_name
from ..losses import squeeze_or_expand_to_same_rank
from .metric_state import initial_state, metric_variable


def to_numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, ember.Tensor) else np.asarray(x)


def _same_rank(y_true, y_pred):
    t, p = squeeze_or_expand_to_same_rank(y_true.shape, y_pred.shape)
    return y_true.reshape(t), y_pred.reshape(p)


# ---- per-sample metric functions (NumPy in, NumPy out) ---------------------------------------
def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = _same_rank(to_numpy(y_true), to_numpy(y_pred))
    predicted = (y_pred > threshold).astype(y_true.dtype if y_true.dtype.kind == "f"
                                            else np.float32)
    return np.mean(predicted == y_true, axis=-1, dtype=np.float32)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _same_rank(to_numpy(y_true).astype(np.float32), to_numpy(y_pred))
    return np.mean(np.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _same_rank(to_numpy(y_true).astype(np.float32), to_numpy(y_pred))
    return np.mean(np.abs(y_pred - y_true), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error


# ---- stateful metrics ------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state(y_true, y_pred)``, ``result()``, ``reset_state()``."""

    def __init__(self, name=None, dtype=None):
        # Keras: an unnamed metric takes its class's name, made unique ("auc", "auc_1", ...).
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = dtype or "float32"  # results are Python floats; kept for the config
        self._variables = []
        initial_state(self)

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Keras 3's metric state: a non-trainable variable, zeroed by ``reset_state()``."""
        return metric_variable(self, shape, initializer, dtype, aggregation, name)

    @property
    def variables(self) -> list:
        return list(self._variables)

    def reset_state(self):
        """Keras: every state variable back to zeros (ember's own metrics override this)."""
        for variable in self._variables:
            variable.assign(np.zeros(tuple(variable.shape), dtype=np.float32))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def snake_case(name):
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Mean(Metric):
    """Weighted mean of the values it is given (Keras' Mean)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if type(values) is float and type(sample_weight) is int:  # a batch's loss, every step
            self.total += values * sample_weight
            self.count += sample_weight
            return
        values, weights = reduce_to_samplewise_values(values, sample_weight, np.mean)
        self.total += float(values.sum())
        if weights is not None:
            self.count += float(weights.sum())
        else:
            self.count += float(values.shape[0]) if values.ndim else 1.0

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def reduce_to_samplewise_values(values, sample_weight, reduce):
    """Keras' reduction of metric values (and weights) to one per sample: values are reduced
    over the axes the weights lack, weighted, then reduced to rank 1 (float64 arrays)."""
    values = np.asarray(to_numpy(values), dtype=np.float64)
    if sample_weight is None:
        weights = None
    else:
        weights = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        v_shape, w_shape = squeeze_or_expand_to_same_rank(values.shape, weights.shape)
        values, weights = values.reshape(v_shape), weights.reshape(w_shape)
        if values.ndim > weights.ndim:
            values = reduce(values, axis=tuple(range(weights.ndim, values.ndim)))
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(f"Metric: sample_weight of shape {w_shape} cannot be broadcast to "
                             f"the values' shape {values.shape}") from None
        values = values * weights
        if weights.ndim > 1:
            weights = reduce(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Sum(Metric):
    """The (weighted) sum of the values it is given (Keras' Sum)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, np.sum)
        self.total += float(values.sum())

    def result(self) -> float:
        return self.total


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
            self._metric = resolve_accuracy(np.shape(to_numpy(y_true)), np.shape(to_numpy(y_pred)),
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
