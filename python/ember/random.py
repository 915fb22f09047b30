"""Random number generators: ember.Generator and the default generator behind ember.manual_seed."""
from __future__ import annotations

import numpy as np

from ._device import check_cpu

# PyTorch's default CPU seed: like PyTorch, a fresh process is deterministic until reseeded.
_DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded random stream (NumPy's PCG64 inside). Streams differ from PyTorch's."""

    def __init__(self, device="cpu"):
        check_cpu("Generator", device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed & (2**64 - 1)))
        return self

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy & (2**63 - 1))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seeds ember's default generator (parameter init, dropout, rand/randn, shuffling)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _resolve(generator) -> np.random.Generator:
    """The NumPy generator behind an optional ember.Generator argument."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator.rng


def kernel_seed(generator) -> int:
    """A 64-bit seed for a kernel's counter-based random stream, drawn from `generator` (or the
    default generator), so that manual_seed reproduces what the kernel draws."""
    return int(_resolve(generator).integers(0, 2**64, dtype=np.uint64))
