"""keras.datasets.imdb: reads Keras' cached ``imdb.npz`` and ``imdb_word_index.json`` (ember
never downloads; see keras.utils.get_file for where the files go)."""
from __future__ import annotations

import json

import numpy as np

from ..utils_file import get_file
from . import word_sequences
from .npz_reader import load_npz

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"
_WHERE = "keras.datasets.imdb.load_data"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """``((x_train, y_train), (x_test, y_test))``: object arrays of word-id lists and integer
    labels, shuffled with ``seed``, as Keras returns them."""
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = get_file(fname=path, origin=_ORIGIN + "imdb.npz", file_hash=FILE_HASH)
    f = load_npz(path, ("x_train", "y_train", "x_test", "y_test"), _WHERE, allow_objects=True)
    for split in ("train", "test"):
        word_sequences.check_sequences(f[f"x_{split}"], f"{_WHERE}: x_{split}")
        word_sequences.check_labels(f[f"y_{split}"], len(f[f"x_{split}"]),
                                    f"{_WHERE}: y_{split}")
    rng = np.random.RandomState(seed)
    x_train, labels_train = word_sequences.shuffle(rng, f["x_train"], f["y_train"])
    x_test, labels_test = word_sequences.shuffle(rng, f["x_test"], f["y_test"])
    x_train = word_sequences.offset(x_train, start_char, index_from)
    x_test = word_sequences.offset(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = word_sequences.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = word_sequences.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
    xs = word_sequences.cut_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return ((np.array(xs[:idx], dtype="object"), labels[:idx]),
            (np.array(xs[idx:], dtype="object"), labels[idx:]))


def get_word_index(path="imdb_word_index.json"):
    """The ``{word: id}`` dict from Keras' cached ``imdb_word_index.json``."""
    path = get_file(fname=path, origin=_ORIGIN + "imdb_word_index.json",
                    file_hash=WORD_INDEX_HASH)
    return read_word_index(path, "keras.datasets.imdb.get_word_index")


def read_word_index(path, where):
    try:
        with open(path, encoding="utf-8") as file:
            index = json.load(file)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{where}: {path} is not valid JSON: {error}") from error
    if not isinstance(index, dict):
        raise ValueError(f"{where}: {path} must hold a JSON object of word ids")
    return index
