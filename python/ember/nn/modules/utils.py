"""Argument helpers shared by the convolution, pooling and padding modules.

``_single/_pair/_quadruple`` expand an int to a tuple as PyTorch's do; ``_int_tuple`` also
checks every entry so a bad hyper-parameter fails at construction with a ValueError naming the
class, the argument and the value received.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..._device import check_cpu as _check_device  # noqa: F401  (the layers' device check)


def _ntuple(n: int):
    def parse(x):
        if isinstance(x, Iterable) and not isinstance(x, str):
            return tuple(x)
        return (x,) * n
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)
_quadruple = _ntuple(4)


def _is_int(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


_BOUND_WORDS = {1: "positive integers", 0: "non-negative integers", None: "integers"}


def _int_tuple(cls_name: str, name: str, value, n: int, minimum=1) -> tuple:
    """value (an int or a length-n sequence of ints, each >= minimum) as a tuple of n ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    ok = len(values) == n and all(_is_int(v) and (minimum is None or v >= minimum)
                                  for v in values)
    if not ok:
        what = "an integer" if n == 1 else f"an integer or a tuple of {n} integers"
        raise ValueError(f"{cls_name}: {name} must be {what}, all {_BOUND_WORDS[minimum]}. "
                         f"Received: {name}={value!r}")
    return tuple(int(v) for v in values)


def _check_int(cls_name: str, name: str, value, minimum=1) -> int:
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{cls_name}: {name} must be an integer >= {minimum}. "
                         f"Received: {name}={value!r}")
    return int(value)


def weight_and_bias(module) -> tuple:
    """(module.weight, module.bias) read from the parameter table: attribute lookup reaches a
    parameter through Module.__getattr__, a Python call that small models feel on every layer."""
    params = module._parameters
    try:
        return params["weight"], params["bias"]
    except KeyError:  # a parameter deleted and replaced by a plain attribute
        return module.weight, module.bias
