"""Safe deserialization (Keras 3's ``SafeModeScope``): while loading, code stored in a file (a
``Lambda`` layer's Python lambda, kept as bytecode) is refused unless the caller opted out with
``load_model(..., safe_mode=False)`` or ``enable_unsafe_deserialization()``."""
from __future__ import annotations

_state = {"safe_mode": None}  # None: no scope and no opt-out, which counts as safe


def in_safe_mode():
    """True or False inside a scope (or after enable_unsafe_deserialization), else None."""
    return _state["safe_mode"]


class SafeModeScope:
    """``with SafeModeScope(safe_mode):`` sets the mode for the loading inside, then restores
    the previous one."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._previous = _state["safe_mode"]
        _state["safe_mode"] = self.safe_mode
        return self

    def __exit__(self, *exc):
        _state["safe_mode"] = self._previous
        return False


def enable_unsafe_deserialization():
    """Allows loading Python code (Lambda bytecode) from files from now on."""
    _state["safe_mode"] = False
