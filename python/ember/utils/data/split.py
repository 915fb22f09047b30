"""random_split: non-overlapping random subsets of given lengths or fractions."""
from __future__ import annotations

import itertools
import math
import numbers
import warnings

from ... import random as _random
from .dataset import Subset


def random_split(dataset, lengths, generator=None):
    """Splits ``dataset`` into ``Subset``s of the given lengths, PyTorch's rules exactly.

    Fractions that sum to 1 become ``floor(frac * len(dataset))`` items each, the remainder
    then handed out one by one round-robin from the first split. ``generator`` (an
    ``ember.Generator``; default: ember's default generator) draws the permutation.
    """
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise TypeError(f"random_split: lengths must be numbers, got {length!r} at index {i}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * frac))
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              "This might result in an empty dataset.", stacklevel=2)
    for i, length in enumerate(lengths):
        if not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(
                "random_split: lengths must be non-negative integers or fractions summing to 1, "
                f"got {length!r} at index {i}")
    lengths = [int(length) for length in lengths]
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset! "
                         f"(lengths sum to {sum(lengths)}, the dataset holds {len(dataset)})")
    indices = _random._resolve(generator).permutation(sum(lengths)).tolist()
    return [Subset(dataset, indices[offset - length: offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
