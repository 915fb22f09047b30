"""keras.datasets.cifar10: reads Keras' cached ``cifar-10-batches-py-target_archive`` (the
cifar-10-python.tar.gz download), extracting it as Keras does (ember never downloads)."""
from __future__ import annotations

import os

import numpy as np

from ..utils_file import get_file
from .cifar import load_batch

FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_WHERE = "keras.datasets.cifar10.load_data"


def load_data():
    """``((x_train, y_train), (x_test, y_test))``: uint8 images ``(N, 32, 32, 3)`` and uint8
    labels ``(N, 1)``, as Keras returns them (channels last)."""
    path = get_file(fname="cifar-10-batches-py-target", extract=True, file_hash=FILE_HASH,
                    origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")
    path = os.path.join(path, "cifar-10-batches-py")
    batches = [load_batch(os.path.join(path, f"data_batch_{i}"), where=_WHERE)
               for i in range(1, 6)]
    x_test, y_test = load_batch(os.path.join(path, "test_batch"), where=_WHERE)
    x_train = np.concatenate([x for x, _ in batches])
    y_train = np.concatenate([np.asarray(y, dtype="uint8") for _, y in batches])
    return ((x_train.transpose(0, 2, 3, 1), y_train.reshape(-1, 1)),
            (x_test.transpose(0, 2, 3, 1), np.asarray(y_test, dtype="uint8").reshape(-1, 1)))
