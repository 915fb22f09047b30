"""keras.utils.PyDataset: a dataset of whole batches written in Python (``__getitem__`` gives
batch ``index``, ``__len__`` or ``num_batches`` their count; None for an endless one), as in
Keras 3. fit, evaluate and predict take one as ``x`` (and fit as ``validation_data``);
``workers`` > 1 loads batches in that many threads, ahead of use, keeping their order, and
``use_multiprocessing=True`` in that many processes (through ember's DataLoader workers)."""
from __future__ import annotations

import collections
import itertools
import random
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..tensor import Tensor


class PyDataset:
    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        if all(hasattr(self, a) for a in ("_workers", "_use_multiprocessing", "_max_queue_size")):
            return
        self.__dict__.setdefault("_workers", 1)
        self.__dict__.setdefault("_use_multiprocessing", False)
        self.__dict__.setdefault("_max_queue_size", 10)
        warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                      "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                      "`max_queue_size`. Do not pass these arguments to `fit()`, as they will "
                      "be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError

    def __iter__(self):
        count = self.num_batches
        for index in (range(count) if count is not None else itertools.count()):
            yield self[index]

    @property
    def num_batches(self):
        if hasattr(self, "__len__"):  # as Keras: __len__ is the usual way to give the count
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


def split_batch(batch, method):
    """(x, y, sample_weight) of one batch: a dict, an array or a Tensor is x alone; a
    tuple/list is (x,), (x, y) or (x, y, sample_weight), as Keras unpacks them."""
    if isinstance(batch, (dict, np.ndarray, Tensor)):
        return batch, None, None
    if not isinstance(batch, (tuple, list)) or len(batch) not in (1, 2, 3):
        raise ValueError(f"Model.{method}: PyDataset.__getitem__() (and a generator or a "
                         "DataLoader) must return a tuple or a dict. If a tuple, it "
                         "must be ordered either (input,) or (inputs, targets) or (inputs, "
                         "targets, sample_weights). Received: "
                         f"{str(batch)[:100]}... of type {type(batch)}")
    return tuple(batch) + (None,) * (3 - len(batch))


def epoch_of(dataset, shuffle):
    """The batches of one pass over ``dataset`` (in a shuffled order with shuffle=True, as
    Keras shuffles with Python's ``random``); the epoch iterator calls its epoch hooks."""
    count = dataset.num_batches
    if count is None:  # infinite: batch after batch, never shuffled (fit warns, as Keras)
        indices = itertools.count()
    else:
        indices = list(range(count))
        if shuffle:
            random.shuffle(indices)
    if dataset.use_multiprocessing and dataset.workers > 0:  # (Keras' condition)
        yield from _in_processes(dataset, indices)
    elif dataset.workers > 1:
        yield from _prefetched(dataset, indices)
    else:
        for index in indices:
            yield dataset[index]


def _prefetched(dataset, indices):
    """dataset[i] for i in indices, loaded by ``workers`` threads at most ``max_queue_size``
    batches ahead, in order."""
    ahead = max(1, dataset.max_queue_size)
    with ThreadPoolExecutor(max_workers=dataset.workers) as pool:
        pending = collections.deque()
        remaining = iter(indices)
        for index in itertools.islice(remaining, ahead):
            pending.append(pool.submit(dataset.__getitem__, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(remaining, 1):
                pending.append(pool.submit(dataset.__getitem__, index))
            yield batch


class _Batches:
    """A PyDataset as a map-style dataset of its batches, for a DataLoader's workers."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getitem__(self, index):
        return self.dataset[index]


def _as_is(batch):
    return batch  # (a module-level function: workers started by spawn must pickle it)


def _in_processes(dataset, indices):
    """dataset[i] for i in indices, loaded by ``workers`` processes, in order, about
    ``max_queue_size`` batches ahead."""
    from ..utils.data import DataLoader

    workers = dataset.workers
    loader = DataLoader(_Batches(dataset), batch_size=None, sampler=indices,
                        num_workers=workers, collate_fn=_as_is,
                        prefetch_factor=max(1, -(-dataset.max_queue_size // workers)))
    yield from loader
