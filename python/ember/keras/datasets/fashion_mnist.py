"""keras.datasets.fashion_mnist: reads the four gzipped IDX files Keras caches in
``~/.keras/datasets/fashion-mnist/`` (ember never downloads)."""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from ..utils_file import get_file

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_WHERE = "keras.datasets.fashion_mnist.load_data"
_IMAGE_BYTES = 28 * 28
# Reading stops past this many bytes: the full training images are 47 MB, so a gzip bomb is
# cut off long before it fills memory.
_MAX_BYTES = 64 * 2**20


def _read(path, header):
    try:
        with gzip.open(path, "rb") as file:
            data = file.read(_MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{_WHERE}: {path} is not a readable gzip file: {error}") from error
    if len(data) > _MAX_BYTES or len(data) < header:
        raise ValueError(f"{_WHERE}: {path} unpacks to {len(data)} bytes, not a Fashion-MNIST "
                         "IDX file")
    return np.frombuffer(data, np.uint8, offset=header)


def load_data():
    """``((x_train, y_train), (x_test, y_test))``: uint8 images ``(N, 28, 28)`` and uint8
    labels ``(N,)``, as Keras returns them."""
    paths = [get_file(name, origin=_ORIGIN + name, cache_subdir=os.path.join(
        "datasets", "fashion-mnist")) for name in _FILES]
    splits = []
    for labels_path, images_path in (paths[:2], paths[2:]):
        labels, images = _read(labels_path, 8), _read(images_path, 16)
        if images.size != len(labels) * _IMAGE_BYTES:
            raise ValueError(f"{_WHERE}: {images_path} holds {images.size} pixels, not 28x28 "
                             f"for each of the {len(labels)} labels in {labels_path}")
        splits.append((images.reshape(len(labels), 28, 28), labels))
    return tuple(splits)
