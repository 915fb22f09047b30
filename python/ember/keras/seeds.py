"""A layer's `seed` argument as its own generator, checked as Keras checks it."""
from __future__ import annotations

import numbers

import ember


def seeded_generator(seed):
    """An ember Generator seeded with `seed`, or None (draws then come from the global one)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
    return ember.Generator().manual_seed(int(seed))
