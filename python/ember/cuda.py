"""ember.cuda: what PyTorch scripts ask of CUDA, answered for a CPU-only library.

`is_available()` is False and `device_count()` 0, so `device("cuda" if ... else "cpu")` picks
the CPU. Seeding, `empty_cache` and `synchronize` do nothing, as seeding CUDA does in PyTorch
when there is no GPU. Anything that needs a GPU raises NotImplementedError naming CUDA.
"""
from __future__ import annotations

from ._device import unavailable


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed) -> None:
    """Seeds the GPUs' generators: there are none, so nothing happens (as in PyTorch)."""
    int(seed)  # PyTorch rejects what is not a number even without a GPU


def manual_seed_all(seed) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def empty_cache() -> None:
    pass


def synchronize(device=None) -> None:
    pass


def current_device() -> int:
    raise unavailable("ember.cuda.current_device", "cuda")


def get_device_name(device=None) -> str:
    raise unavailable("ember.cuda.get_device_name", "cuda")
