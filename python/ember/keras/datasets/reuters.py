"""keras.datasets.reuters: reads Keras' cached ``reuters.npz`` and
``reuters_word_index.json`` (ember never downloads)."""
from __future__ import annotations

import numpy as np

from ..utils_file import get_file
from . import word_sequences
from .imdb import read_word_index
from .npz_reader import load_npz

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"
_WHERE = "keras.datasets.reuters.load_data"
_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """``((x_train, y_train), (x_test, y_test))``: the newswires shuffled with ``seed``, the
    last ``test_split`` of them for testing, as Keras returns them."""
    path = get_file(fname=path, origin=_ORIGIN + "reuters.npz", file_hash=FILE_HASH)
    f = load_npz(path, ("x", "y"), _WHERE, allow_objects=True)
    word_sequences.check_sequences(f["x"], f"{_WHERE}: x")
    word_sequences.check_labels(f["y"], len(f["x"]), f"{_WHERE}: y")
    xs, labels = word_sequences.shuffle(np.random.RandomState(seed), f["x"], f["y"])
    xs = word_sequences.offset(xs, start_char, index_from)
    if maxlen:
        xs, labels = word_sequences.drop_long(maxlen, xs, labels)
    xs = word_sequences.cut_vocabulary(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
            (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])))


def get_word_index(path="reuters_word_index.json"):
    """The ``{word: id}`` dict from Keras' cached ``reuters_word_index.json``."""
    path = get_file(path, origin=_ORIGIN + "reuters_word_index.json",
                    file_hash=WORD_INDEX_HASH)
    return read_word_index(path, "keras.datasets.reuters.get_word_index")


def get_label_names():
    """The 46 topic names, in label order."""
    return _LABEL_NAMES
