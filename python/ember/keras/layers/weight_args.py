"""Arguments the weighted spatial layers share: filters, regularizers and constraints.

Regularizers and constraints go to ``Layer.add_weight`` (and the activity regularizer to
``Layer.__init__``), which decide what ember supports; these layers never drop them.
"""
from __future__ import annotations

from . import conv_utils as U


def check_filters(owner, filters):
    if not U._is_int(filters) or filters <= 0:
        raise ValueError(f"{owner}: filters must be a positive integer. "
                         f"Received: filters={filters!r}")


def with_activity_regularizer(activity_regularizer, kwargs):
    """The keyword arguments for ``Layer.__init__``: activity_regularizer only when given, so
    the base class rejects it (or applies it) rather than this layer ignoring it."""
    if activity_regularizer is not None:
        kwargs["activity_regularizer"] = activity_regularizer
    return kwargs


def _serialize(value):
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "get_config"):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    return getattr(value, "__name__", repr(value))


def optional_config(layer, *names):
    """{name: serialized value} of regularizer/constraint attributes (None when unset)."""
    return {name: _serialize(getattr(layer, name, None)) for name in names}
