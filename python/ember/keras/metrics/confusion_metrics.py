"""Keras' confusion-matrix metrics: Precision, Recall and AUC, accumulating weighted true/false
positives/negatives per threshold over batches (NumPy, float64 counts)."""
from __future__ import annotations

import numbers

import numpy as np

from ..losses import squeeze_or_expand_to_same_rank
from .base_metrics import Metric, to_numpy

EPSILON = 1e-7  # keras.backend.epsilon(): AUC's outermost thresholds are -eps and 1 + eps
NEG_INF = -1e10  # what Keras gives the predictions outside the top k


def _divide_no_nan(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def _filter_top_k(x, k):
    """Keeps the k largest predictions of each row; the others become NEG_INF."""
    keep = np.zeros(x.shape, dtype=bool)
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, x, NEG_INF)


def _evenly_distributed(thresholds) -> bool:
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1),
                                  atol=EPSILON)


def confusion_counts(y_true, y_pred, thresholds, kinds, top_k=None, class_id=None,
                     sample_weight=None, multi_label=False, label_weights=None,
                     evenly=False, op="Metric"):
    """{kind: weighted count per threshold} for kinds among "tp", "fp", "tn", "fn", as Keras'
    update_confusion_matrix_variables computes them (a prediction is positive when it is
    strictly above the threshold). Shapes: (thresholds,), or (thresholds, labels) if
    multi_label."""
    y_true = np.asarray(to_numpy(y_true), dtype=np.float64)
    y_pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    p_shape, t_shape = squeeze_or_expand_to_same_rank(y_pred.shape, y_true.shape)
    if p_shape != t_shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same shape. Received: "
                         f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    y_pred, y_true = y_pred.reshape(p_shape), y_true.reshape(t_shape)
    if sample_weight is not None:
        # Keras: one weight per sample applies to all of its labels (a trailing axis added),
        # weights of the targets' rank apply label by label.
        sample_weight = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if sample_weight.ndim != y_true.ndim:
            sample_weight = sample_weight[..., None]
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"{op}: when class_id is provided, y_pred must be a 2D array with "
                             f"shape (num_samples, num_classes), found shape: {y_pred.shape}")
        if not -y_pred.shape[-1] <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{op}: class_id={class_id} is out of range for y_pred of shape "
                             f"{y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = np.ones(y_pred.shape)
    try:
        if sample_weight is not None:
            weights = weights * np.broadcast_to(sample_weight, y_pred.shape)
        if label_weights is not None and not multi_label:
            weights = weights * np.broadcast_to(np.asarray(label_weights, np.float64),
                                                y_pred.shape)
    except ValueError:
        raise ValueError(f"{op}: sample_weight of shape {np.shape(sample_weight)} cannot be "
                         f"broadcast to y_pred of shape {y_pred.shape}") from None
    positive = y_true != 0
    if not multi_label:
        y_pred, positive, weights = y_pred.reshape(-1), positive.reshape(-1), weights.reshape(-1)
    if evenly:
        return _bucketed_counts(y_pred, positive, weights, thresholds, kinds)
    above = y_pred[None] > thresholds.reshape((-1,) + (1,) * y_pred.ndim)
    both = {"tp": (positive, True), "fp": (~positive, True), "tn": (~positive, False),
            "fn": (positive, False)}
    counts = {}
    for kind in kinds:
        label, predicted_positive = both[kind]
        hit = label[None] & (above if predicted_positive else ~above)
        counts[kind] = np.sum(np.where(hit, weights[None], 0.0), axis=1)
    return counts


def _bucketed_counts(y_pred, positive, weights, thresholds, kinds):
    """Keras' form for evenly spaced thresholds (its rounding, its clipping to [0, 1]): each
    prediction falls in one bucket and counts as positive at every threshold up to it; the
    weighted labels per bucket, summed from the top, give tp and fp at every threshold."""
    n = len(thresholds)
    bucket = np.ceil(np.clip(y_pred, 0.0, 1.0) * (n - 1)) - 1
    if thresholds[0] < 0.0 or thresholds[-1] > 1.0:
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.int64)
    counted = bucket >= 0  # below the first threshold: positive at none
    # One row of buckets per label (a single row unless multi_label).
    labels = bucket.reshape(len(bucket), -1).shape[1] if bucket.ndim > 1 else 1
    column = np.broadcast_to(np.arange(labels), (bucket.size // labels, labels)).reshape(
        bucket.shape)
    index = (column * n + bucket)[counted]

    def per_threshold(values):
        sums = np.bincount(index, weights=values[counted], minlength=labels * n)
        at_or_above = np.cumsum(sums.reshape(labels, n)[:, ::-1], axis=1)[:, ::-1]
        return at_or_above.T if bucket.ndim > 1 else at_or_above[0]

    true_w, false_w = np.where(positive, weights, 0.0), np.where(positive, 0.0, weights)
    tp, fp = per_threshold(true_w), per_threshold(false_w)
    found = {"tp": tp, "fp": fp, "tn": false_w.sum(axis=0) - fp, "fn": true_w.sum(axis=0) - tp}
    return {kind: found[kind] for kind in kinds}


def _parse_thresholds(cls, thresholds, default):
    values = [default] if thresholds is None else (
        list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds])
    if thresholds is not None:
        if not values or any(isinstance(t, bool) or not isinstance(t, numbers.Real)
                             or not 0 <= t <= 1 for t in values):
            raise ValueError(f"{cls}: threshold values must be in [0, 1]. Received: "
                             f"thresholds={thresholds!r}")
    return [float(t) for t in values]


class _PrecisionRecall(Metric):
    """Precision and Recall: tp / (tp + other) at each threshold (one value: a float)."""

    _OTHER = ""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        cls = type(self).__name__
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(
                top_k, numbers.Integral) or top_k < 1):
            raise ValueError(f"{cls}: top_k must be a positive integer. Received: "
                             f"top_k={top_k!r}")
        if class_id is not None and (isinstance(class_id, bool)
                                     or not isinstance(class_id, numbers.Integral)):
            raise ValueError(f"{cls}: class_id must be an integer. Received: "
                             f"class_id={class_id!r}")
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(cls, thresholds,
                                            0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = np.zeros(len(self.thresholds))
        self._other = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, ("tp", self._OTHER),
                                  top_k=self.top_k, class_id=self.class_id,
                                  sample_weight=sample_weight, evenly=self._evenly,
                                  op=type(self).__name__)
        self.true_positives += counts["tp"]
        self._other += counts[self._OTHER]

    def result(self):
        value = _divide_no_nan(self.true_positives, self.true_positives + self._other)
        return float(value[0]) if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp): the fraction of predicted positives (above the threshold, or in the
    top k) that are positive."""

    _OTHER = "fp"

    @property
    def false_positives(self):
        return self._other


class Recall(_PrecisionRecall):
    """tp / (tp + fn): the fraction of positives that are predicted positive."""

    _OTHER = "fn"

    @property
    def false_negatives(self):
        return self._other


_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR", "prgain": "PRGAIN",
           "PRGAIN": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring", "minoring": "minoring",
               "Minoring": "minoring"}


class AUC(Metric):
    """Area under the ROC or precision-recall curve, a Riemann sum over ``num_thresholds``
    thresholds (Keras' AUC, with its interpolation for PR)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'AUC: invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC", "PRGAIN"]')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'AUC: invalid AUC summation method value: "{summation_method}".'
                             ' Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds("AUC", thresholds, None))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(
                    num_thresholds, numbers.Integral) or num_thresholds <= 1:
                raise ValueError("AUC: argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATIONS[summation_method]
        if num_labels is not None and not multi_label:
            raise ValueError("AUC: `num_labels` is needed only when `multi_label` is True.")
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None else
                              np.asarray(label_weights, dtype=np.float64))
        self._from_logits = bool(from_logits)
        self._num_labels = num_labels
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        if self.multi_label and self._num_labels is None:
            self._counts = None  # shaped by the first batch
            return
        shape = (self.num_thresholds, self._num_labels) if self.multi_label else (
            self.num_thresholds,)
        self._counts = {kind: np.zeros(shape) for kind in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(to_numpy(y_pred), dtype=np.float64)
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError("AUC: `y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {y_pred.ndim}. Full shape received for "
                                 f"`y_pred`: {y_pred.shape}")
            if self._counts is None:
                self._num_labels = y_pred.shape[1]
                self.reset_state()
            elif y_pred.shape[1] != self._num_labels:
                raise ValueError(f"AUC: built for {self._num_labels} labels; received y_pred "
                                 f"of shape {y_pred.shape}")
        if self._from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        counts = confusion_counts(y_true, y_pred, self._thresholds, ("tp", "fp", "tn", "fn"),
                                  sample_weight=sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else
                                  self.label_weights, evenly=self._evenly, op="AUC")
        for kind, value in counts.items():
            self._counts[kind] += value

    true_positives = property(lambda self: self._counts["tp"])
    false_positives = property(lambda self: self._counts["fp"])
    true_negatives = property(lambda self: self._counts["tn"])
    false_negatives = property(lambda self: self._counts["fn"])

    def _by_label(self, values) -> float:
        if not self.multi_label:
            return float(np.sum(values))
        by_label = np.sum(values, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolate_pr_auc(self, tp, fp, fn):
        # Davis & Goadrich (2006): precision interpolated between thresholds (Keras' form).
        n = self.num_thresholds
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:n - 1] > 0) & (p[1:] > 0),
                         _divide_no_nan(p[:n - 1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                              np.maximum(tp[1:] + fn[1:], 0))

    def result(self) -> float:
        if self._counts is None:
            return 0.0
        tp, fp, tn, fn = (self._counts[k] for k in ("tp", "fp", "tn", "fn"))
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._by_label(self._interpolate_pr_auc(tp, fp, fn))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scale = _divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp))
            precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
            x, y = np.maximum(recall_gain, 0.0), precision_gain
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:n - 1], y[1:])
        else:
            heights = np.maximum(y[:n - 1], y[1:])
        return self._by_label((x[:n - 1] - x[1:]) * heights)

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else
                  self.label_weights.tolist(), "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class _ConditionCount(Metric):
    """The weighted count of one confusion-matrix cell at each threshold (one: a float)."""

    _KIND = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(type(self).__name__, thresholds, 0.5)
        self._evenly = _evenly_distributed(self.thresholds)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.accumulator += confusion_counts(
            y_true, y_pred, self.thresholds, (self._KIND,), sample_weight=sample_weight,
            evenly=self._evenly, op=type(self).__name__)[self._KIND]

    def result(self):
        return float(self.accumulator[0]) if len(self.thresholds) == 1 else self.accumulator

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    _KIND = "tp"


class FalsePositives(_ConditionCount):
    _KIND = "fp"


class TrueNegatives(_ConditionCount):
    _KIND = "tn"


class FalseNegatives(_ConditionCount):
    _KIND = "fn"
