"""The dataset the ``*_dataset_from_*`` utilities return in place of a ``tf.data.Dataset``: a
keras.utils.PyDataset of NumPy batches, so ``fit``/``evaluate``/``predict`` take it and a
``for x, y in dataset`` loop sees ``(x, y)`` batches (or ``x`` alone without labels);
``map``, ``take``, ``cache`` and ``prefetch`` work as on a batched tf.data.Dataset.

With ``shuffle`` the samples are drawn in a new order every pass (Keras' tf.data pipelines
reshuffle per iteration too), from a NumPy generator seeded with ``seed``; the orders are
reproducible but not tf.data's own.
"""
from __future__ import annotations

import numpy as np

from .py_dataset import PyDataset
from .utils_dataset_methods import DatasetMethods


def labels_for(labels, label_mode, num_classes):
    """Labels as Keras' ``label_mode`` makes them: "int" int32 (N,), "categorical" float32
    one-hot (N, classes), "binary" float32 (N, 1)."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels.astype(np.int64)]
    return labels.astype("int32")


class SampleDataset(DatasetMethods, PyDataset):
    """``count`` samples, sample ``i`` being ``load(i)`` (with ``targets[i]`` when targets
    is not None), in batches of ``batch_size`` (single samples when it is None)."""

    def __init__(self, count, load, targets=None, batch_size=32, shuffle=False, seed=None):
        super().__init__()
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer or None. Received: "
                             f"batch_size={batch_size!r}")
        self._count, self._load, self._targets = count, load, targets
        self._batch_size = batch_size
        self._rng = np.random.RandomState(seed) if shuffle else None
        self._order = np.arange(count)

    def __len__(self):
        if self._batch_size is None:
            return self._count
        return -(-self._count // self._batch_size)

    def on_epoch_begin(self):
        if self._rng is not None:
            self._order = self._rng.permutation(self._count)

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for a dataset of {len(self)} "
                             "batches")
        index %= len(self)
        if self._batch_size is None:
            chosen = int(self._order[index])
            x = self._load(chosen)
            return x if self._targets is None else (x, self._targets[chosen])
        chosen = self._order[index * self._batch_size:(index + 1) * self._batch_size]
        x = np.stack([self._load(int(i)) for i in chosen])
        return x if self._targets is None else (x, self._targets[chosen])

