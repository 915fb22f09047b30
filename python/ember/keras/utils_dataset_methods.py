"""The few tf.data.Dataset methods Keras examples call on what the ``*_dataset_from_*``
utilities return (``map``, ``take``, ``cache``, ``prefetch``), for ember's NumPy-batch
datasets. Each returns a new dataset of whole batches, as tf.data does on a batched dataset;
a pass over a derived dataset starts a pass over its source (so shuffling sources reshuffle),
except after ``cache()``, which replays the batches of its first pass, as tf.data's does."""
from __future__ import annotations

from .py_dataset import PyDataset


class DatasetMethods:
    """Mixed into PyDataset subclasses that iterate by ``on_epoch_begin`` + ``self[i]``."""

    def __iter__(self):
        self.on_epoch_begin()
        for index in range(len(self)):
            yield self[index]

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Each batch through ``map_func`` (a tuple batch is unpacked into its arguments).
        ember maps in order on the calling thread; the parallelism options change no result."""
        if not callable(map_func):
            raise TypeError(f"map: map_func must be callable. Received: {map_func!r}")
        return _Mapped(self, map_func)

    def take(self, count, name=None):
        """The first ``count`` batches (all of them for count -1)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < -1:
            raise ValueError(f"take: count must be an integer >= -1. Received: count={count!r}")
        return _Taken(self, len(self) if count == -1 else min(count, len(self)))

    def cache(self, filename="", name=None):
        """Keeps each batch of the first pass in memory and replays them afterwards."""
        if filename:
            raise NotImplementedError("cache: ember caches in memory only (filename='')")
        return _Cached(self)

    def prefetch(self, buffer_size, name=None):
        """The same dataset: ember loads a batch when it is asked for (PyDataset's ``workers``
        load ahead), so prefetching would change no result."""
        return self


class _Derived(DatasetMethods, PyDataset):
    def __init__(self, source):
        super().__init__()
        self._source = source
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self):
        return len(self._source)

    def on_epoch_begin(self):
        self._source.on_epoch_begin()


class _Mapped(_Derived):
    def __init__(self, source, map_func):
        super().__init__(source)
        self._map_func = map_func

    def __getitem__(self, index):
        batch = self._source[index]
        return self._map_func(*batch) if isinstance(batch, tuple) else self._map_func(batch)


class _Taken(_Derived):
    def __init__(self, source, count):
        super().__init__(source)
        self._count = count

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if not -self._count <= index < self._count:
            raise IndexError(f"batch index {index} out of range for a dataset of {self._count} "
                             "batches")
        return self._source[index % self._count]


class _Cached(_Derived):
    def __init__(self, source):
        super().__init__(source)
        self._batches = {}
        self._started = False

    def on_epoch_begin(self):
        if not self._started:  # only the first pass orders (and shuffles) the source
            self._started = True
            self._source.on_epoch_begin()

    def __getitem__(self, index):
        index = range(len(self))[index]  # IndexError when out of range
        if index not in self._batches:
            self.on_epoch_begin()
            self._batches[index] = self._source[index]
        return self._batches[index]
