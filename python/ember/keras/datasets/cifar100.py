"""keras.datasets.cifar100: reads Keras' cached ``cifar-100-python-target_archive`` (the
cifar-100-python.tar.gz download), extracting it as Keras does (ember never downloads)."""
from __future__ import annotations

import os

import numpy as np

from ..utils_file import get_file
from .cifar import load_batch

FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
_WHERE = "keras.datasets.cifar100.load_data"


def load_data(label_mode="fine"):
    """``((x_train, y_train), (x_test, y_test))``: uint8 images ``(N, 32, 32, 3)`` and int64
    labels ``(N, 1)``: the 100 fine classes, or the 20 coarse ones with
    ``label_mode="coarse"``."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. Received: '
                         f"label_mode={label_mode}.")
    path = get_file(fname="cifar-100-python-target", extract=True, file_hash=FILE_HASH,
                    origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz")
    path = os.path.join(path, "cifar-100-python")
    classes = 100 if label_mode == "fine" else 20
    splits = []
    for name in ("train", "test"):
        x, y = load_batch(os.path.join(path, name), label_key=f"{label_mode}_labels",
                          num_classes=classes, where=_WHERE)
        splits.append((x.transpose(0, 2, 3, 1), np.reshape(y, (len(y), 1))))
    return tuple(splits)
