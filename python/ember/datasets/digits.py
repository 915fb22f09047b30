"""The UCI handwritten digits (8x8, 1797 images), loaded like ``keras.datasets.mnist``.

The data ship inside the package (``data/digits.npz``); see ``data/DIGITS_LICENSE.txt``
for the source and its CC BY 4.0 attribution.
"""

import math
import numbers
from pathlib import Path

import numpy as np

_DATA_FILE = Path(__file__).with_name("data") / "digits.npz"
_NUM_CLASSES = 10


def load_digits(test_fraction=0.2, seed=0):
    """Load the digits and split them into a training and a test set.

    Returns ``((x_train, y_train), (x_test, y_test))`` like
    ``keras.datasets.mnist.load_data()``: ``x`` is ``uint8`` of shape ``(N, 8, 8)`` with
    pixel values 0..16 (not 0..255), ``y`` is ``uint8`` with labels 0..9.

    The split is stratified and deterministic: the test set holds
    ``ceil(test_fraction * 1797)`` images (360 by default, leaving 1437 for training),
    shared among the classes in proportion to their sizes (largest remainder), and which
    images of a class go to the test set is drawn by ``numpy.random.default_rng(seed)``.
    Each split is then shuffled with the same generator, so taking its last 10 % (as
    Keras' ``validation_split`` does) still gives every class.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) \
            or not 0.0 < test_fraction < 1.0:
        raise ValueError(
            "load_digits: test_fraction must be a number strictly between 0 and 1. "
            f"Received: test_fraction={test_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"load_digits: seed must be a non-negative integer. Received: seed={seed!r}")

    with np.load(_DATA_FILE, allow_pickle=False) as archive:
        x, y = archive["x"], archive["y"]

    n_test = math.ceil(float(test_fraction) * len(y))
    if n_test < _NUM_CLASSES or len(y) - n_test < _NUM_CLASSES:
        raise ValueError(
            "load_digits: test_fraction leaves fewer images than classes in one split "
            f"({len(y) - n_test} train / {n_test} test for {_NUM_CLASSES} classes). "
            f"Received: test_fraction={test_fraction!r}")

    rng = np.random.default_rng(int(seed))
    test_per_class = _stratified_counts(np.bincount(y, minlength=_NUM_CLASSES), n_test)
    is_test = np.zeros(len(y), dtype=bool)
    for label, count in enumerate(test_per_class):
        members = np.flatnonzero(y == label)
        is_test[rng.choice(members, size=count, replace=False)] = True

    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])


def _stratified_counts(class_sizes, total):
    """Split ``total`` among classes in proportion to their sizes (largest remainder)."""
    exact = total * class_sizes / class_sizes.sum()
    counts = np.floor(exact).astype(np.int64)
    # Stable sort: ties go to the lower label, so the result never depends on the seed.
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    counts[by_remainder[: total - counts.sum()]] += 1
    return counts
