"""Keras losses (``keras.losses``) with Keras' formulas, computed with ember.nn.functional ops.

The functions (``mean_squared_error(y_true, y_pred)`` ...) return the per-sample loss (the
mean over the last axis where Keras takes it); the classes reduce it Keras' default way,
"sum_over_batch_size" (the sum divided by the number of per-sample values = the mean).
From probabilities, Keras' cross-entropies normalise by the sum (categorical) and clip to
[epsilon, 1 - epsilon] with epsilon = 1e-7 before the log; from logits they use the fused
log-softmax / sigmoid forms.
"""
from __future__ import annotations

import functools

import numpy as np

import ember
from ..nn import functional as F

EPSILON = 1e-7
# Keras ignores no class: an index no label can hold, so every out-of-range label is an error.
_NO_CLASS = int(np.iinfo(np.int64).min)


# ---- shape and type handling (shared with metrics) --------------------------------------------
def squeeze_or_expand_to_same_rank(y_true_shape, y_pred_shape):
    """Keras' rule for ranks that differ by one: the returned shapes have equal rank. A rank-1
    target against a (N, 1) prediction becomes (N, 1); a trailing 1 otherwise is squeezed."""
    t, p = tuple(y_true_shape), tuple(y_pred_shape)
    if len(t) == len(p) + 1 and t[-1] == 1:
        return (t, p + (1,)) if len(p) == 1 else (t[:-1], p)
    if len(p) == len(t) + 1 and p[-1] == 1:
        return (t + (1,), p) if len(t) == 1 else (t, p[:-1])
    return t, p


def _to_tensor(y, dtype=None):
    """An ember Tensor of ``dtype``; with dtype None, floating tensors keep theirs (float64
    predictions stay float64) and everything else becomes float32."""
    if isinstance(y, ember.Tensor):
        have = y._array.dtype
        if dtype is None:
            dtype = have if have.kind == "f" else np.dtype(np.float32)
        return y if have == dtype else y.to(ember.dtypes.from_numpy_dtype(dtype))
    return ember.from_numpy(np.ascontiguousarray(y, dtype=dtype or np.float32))


def _float_pair(y_true, y_pred):
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype.numpy)
    t, p = squeeze_or_expand_to_same_rank(y_true.shape, y_pred.shape)
    y_true = y_true.reshape(*t) if t != tuple(y_true.shape) else y_true
    y_pred = y_pred.reshape(*p) if p != tuple(y_pred.shape) else y_pred
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ember.ShapeError(f"Arguments `target` and `output` must have the same shape. "
                               f"Received: target.shape={tuple(y_true.shape)}, "
                               f"output.shape={tuple(y_pred.shape)}")
    return y_true, y_pred


def _clip_probabilities(p):
    return p.clamp(EPSILON, 1.0 - EPSILON)


def _normalized_log_probs(y_pred, axis=-1):
    p = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return _clip_probabilities(p).log()


def _lead(t):
    return tuple(t.shape[:-1])


# ---- per-sample loss functions ---------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _float_pair(y_true, y_pred)
    return F.mse_loss(y_pred, y_true, reduction="none").mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _float_pair(y_true, y_pred)
    return F.l1_loss(y_pred, y_true, reduction="none").mean(dim=-1)


def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = _float_pair(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(dim=-1)


def _smooth_categorical(y_true, label_smoothing):
    if not label_smoothing:
        return y_true
    num_classes = y_true.shape[-1]
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if axis != -1:
        raise NotImplementedError("categorical_crossentropy: only axis=-1 is supported")
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, y_pred.dtype.numpy)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ember.ShapeError("categorical_crossentropy: arguments `target` and `output` must "
                               f"have the same shape. Received: target.shape="
                               f"{tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}")
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        c = y_pred.shape[-1]
        loss = F.cross_entropy(y_pred.reshape(-1, c), y_true.reshape(-1, c), reduction="none")
        return loss.reshape(*_lead(y_pred))
    return -(y_true * _normalized_log_probs(y_pred)).sum(dim=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    return _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis)


def _sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                     axis=-1, reduction="none"):
    """Per-sample losses, or with reduction="mean" their batch mean taken by the kernel."""
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy: ignore_class is not "
                                  "supported by ember")
    if axis != -1:
        raise NotImplementedError("sparse_categorical_crossentropy: only axis=-1 is supported")
    y_pred = _to_tensor(y_pred)
    labels = y_true.detach().numpy() if isinstance(y_true, ember.Tensor) else np.asarray(y_true)
    if labels.ndim == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if tuple(labels.shape) != _lead(y_pred):
        raise ember.ShapeError("sparse_categorical_crossentropy: targets must have the shape of "
                               "the predictions without their last axis (optionally with a "
                               f"trailing 1). Received: target.shape={tuple(np.shape(y_true))}, "
                               f"output.shape={tuple(y_pred.shape)}")
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise ValueError("sparse_categorical_crossentropy: targets must be integer class "
                             "indices")
    c = y_pred.shape[-1]
    target = ember.from_numpy(np.ascontiguousarray(labels.reshape(-1), dtype=np.int64))
    if from_logits:
        loss = F.cross_entropy(_as_2d(y_pred, c), target, ignore_index=_NO_CLASS,
                               reduction=reduction)
    else:
        loss = F.nll_loss(_as_2d(_normalized_log_probs(y_pred), c), target,
                          ignore_index=_NO_CLASS, reduction=reduction)
    return loss if reduction != "none" or y_pred.ndim == 2 else loss.reshape(*_lead(y_pred))


def _as_2d(t, c):
    return t if t.ndim == 2 else t.reshape(-1, c)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if axis != -1:
        raise NotImplementedError("binary_crossentropy: only axis=-1 is supported")
    y_true, y_pred = _float_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        loss = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        loss = F.binary_cross_entropy(_clip_probabilities(y_pred), y_true, reduction="none")
    return loss.mean(dim=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


def _mean_squared_error_batch_mean(y_true, y_pred):
    y_true, y_pred = _float_pair(y_true, y_pred)
    return F.mse_loss(y_pred, y_true)  # the mean over the batch of the per-sample means


# Per-sample loss functions whose batch mean (sum_over_batch_size without sample weights) one
# kernel computes: one autograd node per step instead of the per-sample node and a mean.
_BATCH_MEAN = {
    sparse_categorical_crossentropy: functools.partial(_sparse_categorical_crossentropy,
                                                       reduction="mean"),
    mean_squared_error: _mean_squared_error_batch_mean,
}


# ---- loss classes ----------------------------------------------------------------------------
_REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean")


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses, ``__call__`` reduces them."""

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: invalid value for argument `reduction`. "
                             f"Expected one of {_REDUCTIONS}. Received: reduction={reduction!r}")
        self.name = name
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self.call(y_true, y_pred)
        if sample_weight is not None:
            w = _to_tensor(sample_weight, losses.dtype.numpy)
            losses = losses * w.reshape(*w.shape, *([1] * (losses.dim() - w.dim())))
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        return losses.mean()

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **fn_kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = fn_kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        batch_mean = _BATCH_MEAN.get(self.fn)
        if batch_mean is not None and sample_weight is None and self.reduction in (
                "sum_over_batch_size", "mean"):
            return batch_mean(y_true, y_pred, **self.fn_kwargs)
        return super().__call__(y_true, y_pred, sample_weight)


def _check_label_smoothing(cls, value):
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{cls}: label_smoothing must be in [0, 1]. "
                         f"Received: label_smoothing={value!r}")
    return float(value)


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name, reduction=reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name, reduction=reduction)


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        if delta <= 0:
            raise ValueError(f"Huber: delta must be positive. Received: delta={delta!r}")
        super().__init__(huber, name=name, reduction=reduction, delta=delta)
        self.delta = delta

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        label_smoothing = _check_label_smoothing("CategoricalCrossentropy", label_smoothing)
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits, self.label_smoothing = bool(from_logits), label_smoothing

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.fn_kwargs["axis"]}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), ignore_class=ignore_class)
        self.from_logits = bool(from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.fn_kwargs["ignore_class"]}


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        label_smoothing = _check_label_smoothing("BinaryCrossentropy", label_smoothing)
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits, self.label_smoothing = bool(from_logits), label_smoothing

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.fn_kwargs["axis"]}


_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError, "huber": Huber, "huber_loss": Huber,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier) -> Loss:
    """A Loss from a name, a Loss instance, or a function ``f(y_true, y_pred)`` returning
    per-sample losses (wrapped so the batch mean is taken)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            valid = sorted(k for k in _BY_NAME if k.islower())
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Valid "
                             f"names are: {', '.join(valid)}") from None
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
