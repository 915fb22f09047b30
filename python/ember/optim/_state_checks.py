"""Checks on optimizer state a user sets: hyper-parameters assigned into a param group, and
state_dicts loaded. A wrong value is refused where it is given, naming the optimizer, the key
and what was expected, instead of breaking (or silently skewing) a later step()."""
from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np

from ..tensor import Tensor

# State entries that hold one value per parameter element: they must have the parameter's shape.
PARAM_SHAPED_STATE = frozenset({"momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq",
                                "square_avg", "grad_avg", "sum", "ax", "exp_inf", "acc_delta"})
# State entries that hold one number (0-d tensors, as PyTorch keeps them).
SCALAR_STATE = frozenset({"eta", "mu", "mu_product"})


def _array_of(value):
    """The array of an ember tensor, NumPy array or (loaded from PyTorch) torch tensor, or None."""
    if isinstance(value, Tensor):
        return value._array
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return np.asarray(value.detach().cpu().numpy())
    return None


def _is_real(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    arr = _array_of(value)
    if arr is not None:  # PyTorch accepts a one-element tensor as lr
        return arr.size == 1 and arr.dtype.kind in "iuf"
    return isinstance(value, numbers.Real)


def _as_float(value) -> float:
    arr = _array_of(value)
    return float(value if arr is None else arr.reshape(()))


def check_hyperparameter(owner: str, key: str, value, default, label=None) -> None:
    """`value` may replace hyper-parameter `key` whose default is `default`: the same kind of
    value (a finite real number, a bool, a tuple of finite numbers of the same length)."""
    label = label or f"param_group['{key}']"
    if default is None or isinstance(default, str) or key == "params":
        return  # None defaults (foreach, fused, line_search_fn) take several kinds of value
    if isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{owner}: {label} must be a bool, got "
                            f"{type(value).__name__} {value!r:.60}")
        return
    if isinstance(default, (tuple, list)):
        if (not isinstance(value, (tuple, list)) or len(value) != len(default)
                or not all(_is_real(v) and math.isfinite(_as_float(v)) for v in value)):
            raise TypeError(f"{owner}: {label} must be a tuple of {len(default)} "
                            f"finite numbers, got {value!r:.60}")
        return
    if isinstance(default, numbers.Real) or isinstance(default, Tensor) or key == "lr":
        if not _is_real(value):
            raise TypeError(f"{owner}: {label} must be a real number, got "
                            f"{type(value).__name__} {value!r:.60}")
        if not math.isfinite(_as_float(value)):
            raise ValueError(f"{owner}: {label} must be finite, got {value!r:.60}")


_signature = functools.lru_cache(maxsize=None)(inspect.signature)


def checked_constructor(init):
    """`init` (an ember optimizer's __init__) checking first that each hyper-parameter is of
    its default's kind, before the optimizer's own range checks index or compare it."""
    @functools.wraps(init)
    def checked_init(self, *args, **kwargs):
        sig = _signature(init)
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError:
            return init(self, *args, **kwargs)  # its own error for a wrong call
        for name, value in list(bound.arguments.items())[1:]:
            default = sig.parameters[name].default
            if default is not inspect.Parameter.empty:
                check_hyperparameter(type(self).__name__, name, value, default, label=name)
        return init(self, *args, **kwargs)
    return checked_init


class ParamGroup(dict):
    """One of `Optimizer.param_groups`: a dict that checks a hyper-parameter when assigned
    (`group['lr'] = 'x'` raises at once, not inside the next step's kernel)."""

    __slots__ = ("_owner", "_defaults")

    def __init__(self, items, owner: str, defaults: dict):
        super().__init__(items)
        self._owner, self._defaults = owner, defaults
        for key, value in self.items():
            self._check(key, value)

    def _check(self, key, value):
        if key in self._defaults:
            check_hyperparameter(self._owner, key, value, self._defaults[key])

    def __setitem__(self, key, value):
        self._check(key, value)
        super().__setitem__(key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self):  # pickles and deep-copies as a ParamGroup with the same checks
        return (ParamGroup, (dict(self), self._owner, self._defaults))


def check_state_dict_layout(owner: str, state_dict) -> None:
    """The outer structure PyTorch's Optimizer.state_dict() has: {'state': {index: {name:
    value}}, 'param_groups': [{'params': [index, ...], ...}]}."""
    if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
        keys = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else None
        raise ValueError(f"{owner}.load_state_dict: expected a dict with keys 'state' and "
                         f"'param_groups' (from Optimizer.state_dict()), got "
                         f"{type(state_dict).__name__}" + (f" with keys {keys}" if keys else ""))
    groups, state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, dict) and isinstance(g.get("params"), (list, tuple)) for g in groups):
        raise ValueError(f"{owner}.load_state_dict: 'param_groups' must be a list of dicts, each "
                         f"with a 'params' list")
    if not isinstance(state, dict) or not all(isinstance(v, dict) for v in state.values()):
        raise ValueError(f"{owner}.load_state_dict: 'state' must map parameter indices to dicts "
                         f"of state values")


def check_param_state(owner: str, index, param: Tensor, name: str, value) -> None:
    """A loaded per-parameter buffer has the parameter's shape and a real dtype; a scalar state
    is one finite number (a float buffer is cast to the parameter's dtype afterwards)."""
    where = f"{owner}.load_state_dict: state[{index!r}][{name!r}]"
    if name in PARAM_SHAPED_STATE:
        if value is None and name == "momentum_buffer":
            return  # PyTorch's SGD saves None before its first momentum step
        arr = _array_of(value)
        if arr is None:
            raise TypeError(f"{where} must be a tensor of the parameter's shape "
                            f"{tuple(param.shape)}, got {type(value).__name__}")
        if arr.shape != tuple(param.shape):
            raise ValueError(f"{where} has shape {arr.shape}, but its parameter has shape "
                             f"{tuple(param.shape)}")
        if arr.dtype.kind != "f":
            raise TypeError(f"{where} must be a floating-point tensor, got dtype {arr.dtype}")
    elif name in SCALAR_STATE:
        if not _is_real(value) or not math.isfinite(_as_float(value)):
            raise ValueError(f"{where} must be one finite number, got {value!r:.60}")
