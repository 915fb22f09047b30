"""compile()'s losses and metrics for models with one or several outputs (Keras 3's
CompileLoss and CompileMetrics, for flat output structures).

A model's output is one tensor, a list/tuple of tensors or a dict of tensors; nested
structures raise NotImplementedError. Both classes build on the first batch, when the output
structure is known, and resolve names as Keras 3.15 does:
- an output's name is ``model.output_names[i]`` (Functional models) or, for a dict output, its
  key; a subclassed model returning a list has no output names;
- each loss is logged as ``<name>_loss`` (unweighted; only when there are several losses),
  where an unnamed output uses the loss's own name ("mse_loss"); "loss" is the weighted sum;
- metrics are logged as ``<output name>_<metric name>``, or the bare metric name for a single
  output or unnamed outputs, made unique with "_1", "_2", ...;
- a list of metrics (or losses) as long as the outputs gives one entry per output.
Logs are returned sorted by key, and evaluate's list is in Keras' ``metrics_names`` order
(see ``flatten_in_order``).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

import ember
from . import losses as losses_module
from . import metrics as metrics_module


# ---- flat structures (Keras' tree.flatten order: dict values by sorted key) -----------------
def is_nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(value) -> list:
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def pack_like(structure, flat):
    """``flat`` in the shape of ``structure`` (a dict is filled in sorted-key order)."""
    if isinstance(structure, dict):
        return dict(zip(sorted(structure), flat))
    if isinstance(structure, (list, tuple)):
        return type(structure)(flat)
    return flat[0]


def check_flat(y_pred, what="The model's output"):
    for value in flatten(y_pred):
        if is_nested(value):
            raise NotImplementedError(f"{what} is a nested structure ({_describe(y_pred)}); "
                                      "ember's compile/fit support one tensor, or a flat list, "
                                      "tuple or dict of tensors")


def _describe(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return "*"


def _output_keys(y_pred, output_names):
    """Per flat output, the name Keras' CompileMetrics gives it (None: unnamed)."""
    if isinstance(y_pred, dict):
        if output_names and set(output_names) == set(y_pred):
            return list(output_names)
        return list(y_pred) if isinstance(y_pred, OrderedDict) else sorted(y_pred)
    if output_names and len(output_names) == len(flatten(y_pred)):
        return list(output_names)
    return [None] * len(flatten(y_pred))


def align_targets(y_true, y_pred, output_names, loss_structure=None):
    """y_true in the structure of y_pred (Keras' rules): a single target for a one-output list,
    a one-entry structure for a single output, a dict by output name for list outputs, a list
    in flat order for dict outputs; dict keys must be the outputs' (or those with a loss)."""
    if not is_nested(y_pred):
        if is_nested(y_true):
            if len(flatten(y_true)) != 1:
                raise ValueError(f"The model has one output, but y has {len(flatten(y_true))} "
                                 f"entries: y structure {_describe(y_true)}")
            return flatten(y_true)[0]
        return y_true
    n = len(flatten(y_pred))
    if not is_nested(y_true):
        if n == 1:
            return pack_like(y_pred, [y_true])
        raise ValueError(f"y_true and y_pred have different structures: the model has {n} "
                         f"outputs {_describe(y_pred)} but y is a single array")
    if isinstance(y_pred, dict):
        if isinstance(y_true, dict):
            unknown = sorted(set(y_true) - set(y_pred), key=str)
            if unknown:
                raise ValueError(f"y has keys {unknown} that are not outputs of the model. "
                                 f"Expected keys among: {list(y_pred)}")
            missing = [k for k in y_pred if k not in y_true and _has_entry(loss_structure, k)]
            if missing:
                raise ValueError(f"y has no targets for outputs {missing} (keys received: "
                                 f"{list(y_true)}; the model's outputs: {list(y_pred)})")
            return y_true
        if len(y_true) != n:
            raise ValueError(f"y_true and y_pred have different structures: y has "
                             f"{len(y_true)} entries, the model {n} outputs {_describe(y_pred)}")
        return pack_like(y_pred, list(y_true))
    if isinstance(y_true, dict):
        if not output_names or set(output_names) != set(y_true):
            raise ValueError(
                f"y is a dict with keys {list(y_true)}, but the model's outputs are a "
                f"{type(y_pred).__name__} " + (f"named {list(output_names)}" if output_names else
                                               "without output names") +
                "; pass y as a list in the order of the outputs")
        return type(y_pred)(y_true[name] for name in output_names)
    if len(y_true) != n:
        raise ValueError(f"y_true and y_pred have different structures: y has {len(y_true)} "
                         f"entries, the model {n} outputs {_describe(y_pred)}")
    return type(y_pred)(y_true)


def _has_entry(structure, key):
    return not isinstance(structure, dict) or structure.get(key) is not None


# ---- losses ----------------------------------------------------------------------------------
def get_loss(identifier, y_true, y_pred):
    """A Loss for one output; "crossentropy"/"ce" pick binary, sparse or categorical
    cross-entropy from the shapes, as Keras does."""
    if str(identifier).lower() in ("crossentropy", "ce"):
        kind = _accuracy_kind(y_true, y_pred)
        fn = {"binary": losses_module.binary_crossentropy,
              "sparse": losses_module.sparse_categorical_crossentropy,
              "categorical": losses_module.categorical_crossentropy}[kind]
        return losses_module.LossFunctionWrapper(fn, name=str(identifier))
    loss = losses_module.get(identifier)
    if isinstance(identifier, str) and identifier != type(loss).__name__:
        loss.name = identifier  # Keras names a loss function given by name so ("mse")
    return loss


def _accuracy_kind(y_true, y_pred):
    kind = type(metrics_module.resolve_accuracy(_shape(y_true), _shape(y_pred))).__name__
    return {"BinaryAccuracy": "binary", "SparseCategoricalAccuracy": "sparse"}.get(
        kind, "categorical")


def _shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else ()


class _OutputLoss:
    __slots__ = ("key", "loss", "weight", "name", "tracker")

    def __init__(self, key, loss, weight, name):
        self.key, self.loss, self.weight, self.name = key, loss, weight, name
        self.tracker = None


class CompileLoss:
    """compile's ``loss`` and ``loss_weights``: the weighted sum of the per-output losses,
    with a Mean of each unweighted loss when there are several."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output "
                             "case) or a list, tuple, or dict (multiple output case). Received "
                             f"instead: loss_weights={loss_weights!r} of type "
                             f"{type(loss_weights).__name__}")
        for value in (loss, loss_weights):
            if is_nested(value) and any(is_nested(v) for v in flatten(value)):
                raise NotImplementedError("compile: nested structures of losses or loss "
                                          "weights are not supported by ember (use a flat "
                                          "list or dict)")
        self.user_loss, self.user_loss_weights = loss, loss_weights
        self.output_names = output_names
        self.built = False
        self.flat_losses = []
        self.metrics = []  # the Mean of each output's loss, when there are several
        self.single = None  # the lone (loss, weight) of a one-output model: the fast path

    def build(self, y_true, y_pred):
        loss, weights, names = self.user_loss, self.user_loss_weights, self.output_names
        if names and isinstance(loss, dict) and not isinstance(y_pred, dict):
            if set(names) != set(loss):
                raise ValueError(f"Expected keys {list(names)} in loss dict, but found "
                                 f"loss.keys()={list(loss)}")
            loss = [loss[name] for name in names]
            if isinstance(weights, dict):
                weights = [weights[name] for name in names]
        if isinstance(loss, dict) and not isinstance(y_pred, dict):
            kind = f"a {type(y_pred).__name__}" if is_nested(y_pred) else "one tensor"
            raise ValueError(f"compile: `loss` is a dict {list(loss)}, but the model's output "
                             f"is {kind} without output names; pass a list of losses in output "
                             "order")
        weights = self._pack_weights(loss, weights)
        flat_pred = flatten(y_pred)
        if not is_nested(loss):
            loss = pack_like(y_pred, [loss] * len(flat_pred)) if is_nested(y_pred) else loss
            weights = (pack_like(y_pred, [weights] * len(flat_pred))
                       if is_nested(y_pred) and not is_nested(weights) else weights)
        elif isinstance(loss, (list, tuple)) and len(loss) == len(flat_pred):
            loss = pack_like(y_pred, list(loss))  # one loss per output, in flat order
            if weights is not None:
                weights = pack_like(y_pred, flatten(weights))
        elif isinstance(loss, (list, tuple)):
            raise ValueError(f"compile: `loss` has {len(loss)} entries, but the model has "
                             f"{len(flat_pred)} outputs {_describe(y_pred)}")
        keys = _output_keys(y_pred, names) if is_nested(y_pred) else None
        self.flat_losses = []
        if not is_nested(y_pred):
            name = names[0] if names and len(names) == 1 else None
            if loss is not None:
                resolved = get_loss(loss, y_true, y_pred)
                self.flat_losses.append(_OutputLoss(None, resolved, weights,
                                                    name or resolved.name))
        else:
            entries = loss.items() if isinstance(loss, dict) else enumerate(loss)
            for key, entry in entries:
                if entry is None:
                    continue
                self._check_key(key, y_true, y_pred)
                resolved = get_loss(entry, y_true[key], y_pred[key])
                weight = None if weights is None else weights[key]
                if isinstance(loss, dict):
                    name = key
                else:
                    name = keys[key] if keys[key] is not None else resolved.name
                self.flat_losses.append(_OutputLoss(key, resolved, weight, name))
        if len(self.flat_losses) > 1:
            for entry in self.flat_losses:
                entry.tracker = metrics_module.Mean(name=f"{entry.name}_loss")
        self.metrics = [entry.tracker for entry in self.flat_losses if entry.tracker]
        self.single = None
        if not is_nested(y_pred) and self.flat_losses:
            self.single = (self.flat_losses[0].loss, self.flat_losses[0].weight)
        self.built = True

    @staticmethod
    def _pack_weights(loss, weights):
        if weights is None:
            return None
        if _same_structure(loss, weights):
            return weights
        flat = flatten(weights)
        if len(flatten(loss)) != len(flat):
            raise ValueError(f"`loss_weights` must match the number of losses, got "
                             f"{len(flatten(loss))} losses and {len(flat)} weights.")
        return pack_like(loss, flat)

    @staticmethod
    def _check_key(key, y_true, y_pred):
        found = (key in y_pred and key in y_true) if isinstance(y_pred, dict) else (
            key < len(y_pred) and key < len(y_true))
        if not found:
            raise KeyError(f"The path: ({key!r},) in the `loss` argument, can't be found in "
                           "either the model's output (`y_pred`) or in the labels (`y_true`).")

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The total loss (a scalar Tensor), or None when no output has a loss; y_true in the
        structure of y_pred (see align_targets); one ``sample_weight`` array weighs every
        output's loss, or a structure of them (aligned as y_true) one each, as in Keras."""
        single = self.single
        if single is not None and isinstance(y_pred, ember.Tensor):
            value = single[0](y_true, y_pred, sample_weight)
            return value if single[1] is None else value * single[1]
        if not self.built:
            self.build(y_true, y_pred)
        total = None
        batch = flatten(y_pred)[0].shape[0]
        for entry in self.flat_losses:
            if entry.key is None:
                y_t, y_p = y_true, y_pred
            else:
                y_t, y_p = y_true[entry.key], y_pred[entry.key]
            weights = sample_weight
            if is_nested(sample_weight):  # one array per output
                weights = sample_weight[entry.key]
            value = entry.loss(y_t, y_p, weights)
            if entry.tracker is not None:
                entry.tracker.update_state(float(value.item()), sample_weight=batch)
            if entry.weight is not None:
                value = value * entry.weight
            total = value if total is None else total + value
        return total


def _same_structure(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
                and len(a) == len(b))
    return True


# ---- metrics ---------------------------------------------------------------------------------
def _log_value(value):
    return value if np.ndim(value) else float(value)


def get_metric(identifier):
    """A fresh Metric named as Keras names it: the identifier string, else the object's name."""
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    metric = metrics_module.get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


class _OutputMetrics:
    __slots__ = ("key", "prefix", "metrics", "weighted")

    def __init__(self, key, prefix, metrics, weighted=False):
        self.key, self.prefix, self.metrics = key, prefix, metrics
        self.weighted = weighted  # (compile's weighted_metrics: updated with sample weights)


def _check_metrics_argument(argument, metrics):
    if metrics and not isinstance(metrics, (list, tuple, dict)):
        raise ValueError(f"Expected `{argument}` argument to be a list, tuple, or dict. "
                         f"Received instead: {argument}={metrics!r} of type "
                         f"{type(metrics).__name__}")
    for value in flatten(metrics or []):
        if isinstance(value, dict) or (is_nested(value) and any(is_nested(v) for v in value)):
            raise NotImplementedError(f"compile: nested structures of {argument} deeper than "
                                      "one list per output are not supported by ember")


class CompileMetrics:
    """compile's ``metrics`` and ``weighted_metrics``: each a list (for one output: all of
    them; for several: one entry per output when as long as the outputs), a list of lists, or
    a dict keyed by output name. Weighted metrics follow the others, as in Keras; a weighted
    metric whose log name is taken is logged as ``[<output>_]weighted_<name>``."""

    def __init__(self, metrics, output_names=None, weighted_metrics=None):
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            _check_metrics_argument(argument, value)
        self.user_metrics = metrics
        self.user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        self.built = False
        self.groups = []
        self.metrics = []  # every metric, in output order (the weighted ones after)
        self.names = []  # their names in the logs
        self.order = None  # (logs keys, evaluate's order of them), see flatten_in_order

    def build(self, y_true, y_pred):
        self.groups = (self._groups(self.user_metrics, y_pred, "metrics", False)
                       + self._groups(self.user_weighted_metrics, y_pred, "weighted_metrics",
                                      True))
        self.metrics = [m for group in self.groups for m in group.metrics]
        self.names = self._unique_names()
        self.built = True

    def _groups(self, metrics, y_pred, argument, weighted):
        if not metrics:
            return []
        if not is_nested(y_pred) or len(flatten(y_pred)) == 1:
            flat = [m for entry in flatten(metrics) for m in
                    (entry if isinstance(entry, (list, tuple)) else [entry])]
            key = None if not is_nested(y_pred) else (
                next(iter(y_pred)) if isinstance(y_pred, dict) else 0)
            return [_OutputMetrics(key, None, [get_metric(m) for m in flat], weighted)]
        keys = _output_keys(y_pred, self.output_names)
        access = list(keys) if isinstance(y_pred, dict) else list(range(len(y_pred)))
        if isinstance(metrics, (list, tuple)) and len(metrics) == len(access):
            per_output = list(metrics)
        elif isinstance(metrics, dict) and None not in keys and set(metrics) <= set(keys):
            per_output = [metrics.get(name) for name in keys]
        else:
            names = keys if None not in keys else None
            raise ValueError(
                f"Invalid `{argument}`. `{argument}` should contain metrics objects and "
                f"either be a "
                f"list with one entry per output ({len(access)} outputs"
                + (f", named {names}" if names else "") + ") or a dict keyed by output name"
                + (f" {names}" if names else " (this model's outputs have no names)")
                + f"; for one metric on every output, repeat it per output. "
                f"Received: {argument}={metrics!r}")
        groups = []
        for key, prefix, entry in zip(access, keys, per_output):
            if entry is None:
                continue
            entry = list(entry) if isinstance(entry, (list, tuple)) else [entry]
            groups.append(_OutputMetrics(key, prefix, [get_metric(m) for m in entry], weighted))
        return groups

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if is_nested(sample_weight):  # one array per output, arranged as y_pred
            sample_weight = align_targets(sample_weight, y_pred, self.output_names)
        for group in self.groups:
            if group.key is None:
                y_t, y_p = y_true, y_pred
            else:
                y_t = y_true.get(group.key) if isinstance(y_true, dict) else y_true[group.key]
                y_p = y_pred[group.key]
                if y_t is None:
                    raise ValueError(f"No target in y for output {group.key!r}, which has "
                                     "metrics")
            if not group.weighted:
                for m in group.metrics:
                    m.update_state(y_t, y_p)
                continue
            weights = sample_weight
            if is_nested(sample_weight):
                weights = sample_weight[0 if group.key is None else group.key]
            for m in group.metrics:
                m.update_state(y_t, y_p, sample_weight=weights)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def result(self) -> dict:
        """{name: value}, names made unique as Keras does ("mae", "mae_1", ...)."""
        # Per-class/per-threshold metrics give arrays, as in Keras.
        return {name: _log_value(m.result()) for name, m in zip(self.names, self.metrics)}

    def _unique_names(self):
        names, counts = [], {}
        for group in self.groups:
            for m in group.metrics:
                name = f"{group.prefix}_{m.name}" if group.prefix else m.name
                if name in counts and group.weighted:  # (Keras: weighted_<name>, then _1 ...)
                    name = (f"{group.prefix}_weighted_{m.name}" if group.prefix
                            else f"weighted_{m.name}")
                    if name not in counts:
                        counts[name] = 1
                        names.append(name)
                        continue
                if name in counts:
                    counts[name] += 1
                    name = f"{name}_{counts[name] - 1}"
                else:
                    counts[name] = 1
                names.append(name)
        return names


# ---- logs ------------------------------------------------------------------------------------
def collect_logs(loss_tracker, compile_metrics, compile_loss) -> dict:
    """The logs dict in Keras' order of ``model.metrics`` (loss, compiled metrics, per-output
    losses; a later duplicate name wins), then sorted by key as Keras returns logs."""
    logs = {"loss": loss_tracker.result()}
    if compile_metrics.metrics:
        logs.update(compile_metrics.result())
    if compile_loss is not None:
        for tracker in compile_loss.metrics:
            logs[tracker.name] = tracker.result()
    return logs if len(logs) == 1 else dict(sorted(logs.items()))


def flatten_in_order(logs, compile_metrics, compile_loss):
    """evaluate()'s list (Keras' ``_flatten_metrics_in_order``): see names_in_order; a lone
    value on its own."""
    keys = tuple(logs)
    cached = compile_metrics.order
    if cached is None or cached[0] != keys:  # (the names are fixed once both are built)
        cached = compile_metrics.order = (keys, names_in_order(logs, compile_metrics,
                                                               compile_loss))
    values = [logs[name] for name in cached[1]]
    return values[0] if len(values) == 1 else values


def names_in_order(logs, compile_metrics, compile_loss) -> list:
    """The keys behind evaluate()'s list: "loss", each compiled metric's own (unprefixed) name
    and each per-output loss, where the logs have them (a name may repeat), then the other
    keys sorted."""
    names = ["loss"] + [m.name for m in compile_metrics.metrics]
    if compile_loss is not None:
        names += [tracker.name for tracker in compile_loss.metrics]
    found = [name for name in names if name in logs]
    return found + [key for key in sorted(logs) if key not in names]
