"""Compiling a model as another one was compiled: what Keras 3's ``clone_model`` does for a
compiled model (``compile_from_config(model.get_compile_config())``), so a clone trains at
once, with state of its own: a new optimizer of the same configuration (no slots, iteration
0) and copies of the loss and metric objects (metrics with their state reset)."""
from __future__ import annotations

import copy

from .layers.tracking import layers_in
from .metrics.base_metrics import Metric


def _fresh(value):
    """A copy of a compile argument that shares no state with the original."""
    value = copy.deepcopy(value)  # (strings and functions come back as they are)
    for metric in layers_in(value, Metric):  # (in nested lists and dicts too)
        metric.reset_state()
    return value


def compile_like(target, source) -> None:
    """Compiles ``target`` with ``source``'s optimizer configuration, loss, loss weights and
    metrics."""
    opt = source.optimizer
    arguments = {key: _fresh(value) for key, value in source._compile_arguments.items()}
    target.compile(optimizer=type(opt).from_config(opt.get_config()), **arguments)
