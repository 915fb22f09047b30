"""plot_history: training curves, one panel per metric with its ``val_`` twin."""
import math
from collections.abc import Mapping

import numpy as np

from ._figure import finish, new_figure, panel_grid

_OP = "plot_history"


def _as_value(key, value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{_OP}: the logs of {key!r} must be numbers. Received: "
                         f"{value!r}") from None


def history_logs(history_or_logs):
    """(epoch numbers, {key: float array}) from a Keras History (``model.fit``'s return, ember's
    or Keras'), a dict of per-epoch lists, or a list of per-epoch log dicts (a key missing
    from an epoch's logs is NaN there)."""
    source = history_or_logs
    epochs = None
    if not isinstance(source, (Mapping, list, tuple)) and isinstance(
            getattr(source, "history", None), Mapping):
        epochs = list(getattr(source, "epoch", None) or [])
        source = source.history
    if isinstance(source, Mapping):
        logs = {}
        for key, values in source.items():
            values = [values] if np.ndim(values) == 0 else list(values)
            logs[str(key)] = np.array([_as_value(key, v) for v in values])
    elif isinstance(source, (list, tuple)):
        if not all(isinstance(entry, Mapping) for entry in source):
            raise TypeError(f"{_OP}: a list of logs must hold one dict per epoch")
        keys = list(dict.fromkeys(str(k) for entry in source for k in entry))
        logs = {key: np.array([_as_value(key, entry[key]) if key in entry else math.nan
                               for entry in source]) for key in keys}
    else:
        raise TypeError(f"{_OP}: expected a Keras History (model.fit's return), a dict of "
                        "per-epoch lists or a list of per-epoch log dicts. Received: "
                        f"{type(history_or_logs).__name__}")
    length = max((len(v) for v in logs.values()), default=0)
    if length == 0:
        raise ValueError(f"{_OP}: the history holds no epochs")
    if epochs is None or len(epochs) != length:
        epochs = list(range(length))
    return np.array(epochs) + 1, logs  # Keras counts epochs from 1 in its output


def _panels(logs, metrics):
    """The metrics to draw: each training metric (its ``val_`` twin shares the panel), and
    validation metrics without one."""
    if metrics is None:
        return [k for k in logs if not k.startswith("val_") or k[4:] not in logs]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in metrics if m not in logs and f"val_{m}" not in logs]
    if unknown or not metrics:
        raise ValueError(f"{_OP}: no logs for metrics {unknown}. The history has: "
                         f"{', '.join(logs)}")
    return metrics


def plot_history(history_or_logs, metrics=None, path=None):
    """Training curves: one panel per metric (``metrics``, default all of them) with the
    training values and the ``val_`` values of the same metric, against the epoch.

    ``history_or_logs``: a Keras ``History`` (what ``model.fit`` returns), a dict of per-epoch
    lists (``history.history``) or a list of per-epoch log dicts (what a PyTorch-style loop
    collects). Writes a PNG to ``path`` when given; returns the matplotlib Figure.
    """
    epochs, logs = history_logs(history_or_logs)
    panels = _panels(logs, metrics)
    rows, columns = panel_grid(len(panels))
    figure = new_figure(_OP, 4.0 * columns, 3.0 * rows)
    for i, metric in enumerate(panels):
        axes = figure.add_subplot(rows, columns, i + 1)
        for key, label in _series(logs, metric):
            values = logs[key]
            axes.plot(epochs[:len(values)], values, marker="o", markersize=3, label=label)
        axes.set_title(metric)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.legend()
    return finish(figure, path)


def _series(logs, metric):
    """(key, label) of the curves in ``metric``'s panel."""
    if metric.startswith("val_"):
        return [(metric, "validation")]
    return [(key, label) for key, label in ((metric, "train"), (f"val_{metric}", "validation"))
            if key in logs]
