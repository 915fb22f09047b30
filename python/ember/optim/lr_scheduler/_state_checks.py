"""Checks on a scheduler state_dict before it is loaded: each value must be of the kind the
scheduler holds for that key now (a count stays an integer, a list of learning rates keeps one
finite number per parameter group), so a corrupt or mismatched state_dict is refused at
load_state_dict, with the scheduler left as it was, instead of breaking a later step()."""
from __future__ import annotations

import math
import numbers

# Attributes PyTorch keeps as integers (counts of steps, epochs, patience).
INTEGER_KEYS = frozenset({"_step_count", "step_size", "total_steps", "patience", "cooldown",
                          "cooldown_counter", "num_bad_epochs"})


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_number_list(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(map(_is_real, value))


def _refuse(owner, key, expected, value):
    raise TypeError(f"{owner}.load_state_dict: {key!r} must be {expected}, got "
                    f"{type(value).__name__} {value!r:.60}")


def check_scheduler_state(scheduler, state_dict) -> None:
    owner = type(scheduler).__name__
    if not isinstance(state_dict, dict):
        raise TypeError(f"{owner}.load_state_dict: expected a dict (from state_dict()), got "
                        f"{type(state_dict).__name__}")
    current = scheduler.__dict__
    for key, value in state_dict.items():
        if key not in current:
            continue  # a field this version does not keep (e.g. from a newer PyTorch)
        now = current[key]
        if isinstance(now, bool):
            if not isinstance(value, bool):
                _refuse(owner, key, "a bool", value)
        elif _is_real(now):
            if key in INTEGER_KEYS and not (isinstance(value, numbers.Integral)
                                            and not isinstance(value, bool)):
                _refuse(owner, key, "an integer", value)
            if not _is_real(value):
                _refuse(owner, key, "a real number", value)
            if math.isnan(value):
                raise ValueError(f"{owner}.load_state_dict: {key!r} is NaN")
        elif isinstance(now, str):
            if not isinstance(value, str):
                _refuse(owner, key, "a string", value)
        elif _is_number_list(now):
            if not _is_number_list(value) or not all(math.isfinite(v) for v in value):
                _refuse(owner, key, f"a list of {len(now)} finite numbers", value)
            if len(value) != len(now):
                raise ValueError(f"{owner}.load_state_dict: {key!r} has {len(value)} values, "
                                 f"but the optimizer has {len(now)} parameter groups")
