"""ember.accelerator: PyTorch's device-agnostic accelerator API; ember has no accelerator.

So `ember.accelerator.current_accelerator().type if ember.accelerator.is_available() else "cpu"`
picks "cpu", and `current_accelerator()` returns None, as PyTorch does without one.
"""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    return None
