"""What keras.datasets.imdb and reuters share: checking the stored word-id lists and Keras'
shuffle, offset, length filter and vocabulary cut, in Keras' order, so the same file gives the
same arrays."""
from __future__ import annotations

import numpy as np


def check_sequences(array, where):
    """Each element of the object array must be a list of non-negative integer word ids."""
    if array.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D array of word-id lists, got shape "
                         f"{array.shape}")
    for position, seq in enumerate(array):
        # safe_pickle builds no NumPy scalars, so a word id can only be a plain int here.
        if type(seq) is not list or (seq and (set(map(type, seq)) != {int} or min(seq) < 0)):
            raise ValueError(f"{where}: element {position} is not a list of non-negative "
                             f"integer word ids")


def check_labels(labels, count, where):
    if labels.ndim != 1 or len(labels) != count or labels.dtype.kind not in "iu":
        raise ValueError(f"{where}: labels of shape {labels.shape} and dtype {labels.dtype} do "
                         f"not fit {count} sequences (expected ({count},) integers)")


def shuffle(rng, x, labels):
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], labels[indices]


def offset(xs, start_char, index_from):
    """Shifts ids by ``index_from`` and prepends ``start_char`` (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def drop_long(maxlen, xs, labels):
    """Keeps the sequences shorter than ``maxlen`` (Keras: strictly shorter)."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def cut_vocabulary(xs, num_words, skip_top, oov_char):
    """Ids outside ``[skip_top, num_words)`` become ``oov_char``, or are dropped when it is
    None; without ``num_words`` the bound is the largest id (as in Keras, that id itself is
    outside)."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]
