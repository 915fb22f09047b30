"""DataLoader: batches of a dataset in the calling process (PyTorch's API, num_workers=0 only)."""
from __future__ import annotations

import numbers
import warnings

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fast_gather import tensor_gather_plan
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _check_generator

# Attributes PyTorch freezes once the loader exists (changing them would desynchronise len()).
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterates over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    ``shuffle=True`` draws a new order each epoch from ``generator`` (or, without one, from a
    seed taken from ember's default generator, so ``ember.manual_seed`` makes it repeatable).
    Multi-process loading (``num_workers > 0``) is not supported.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        self._initialized = False
        if (isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral)
                or num_workers < 0):
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if num_workers > 0:
            raise NotImplementedError(
                f"DataLoader: num_workers={num_workers} (multi-process loading) is not supported "
                "by ember; use num_workers=0, which loads in the calling process")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None.")
        if persistent_workers:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading "
                f"(num_workers > 0), but got num_workers={num_workers}")
        _check_generator(generator, "DataLoader")

        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        is_iterable = isinstance(dataset, IterableDataset)
        if sampler is None and not is_iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            # Validates batch_size and drop_last with PyTorch's messages, also for streams.
            batch_sampler = BatchSampler(sampler if sampler is not None else (), batch_size,
                                         drop_last)
            if is_iterable:
                batch_sampler = None

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._is_iterable = is_iterable
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, attr, value):
        if attr in _FROZEN and getattr(self, "_initialized", False):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_size is not None if self._is_iterable else self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.pin_memory:
            # What PyTorch does on a machine without an accelerator: warn and load normally.
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self._is_iterable:
            return _StreamIterator(self)
        return _MapIterator(self)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else -(-length // self.batch_size))
            return length
        return len(self._index_sampler)


class _MapIterator:
    """One pass over a map-style dataset: fetch by index, then collate."""

    def __init__(self, loader):
        self._loader = loader
        self._dataset = loader.dataset
        self._collate_fn = loader.collate_fn
        self._auto_collation = loader._auto_collation
        self._indices = iter(loader._index_sampler)
        self._gather = None
        if self._auto_collation and self._collate_fn is default_collate:
            self._gather = tensor_gather_plan(self._dataset)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        index = next(self._indices)
        if not self._auto_collation:
            return self._collate_fn(self._dataset[index])
        if self._gather is not None:
            batch = self._gather(index)
            if batch is not None:
                return batch
        getitems = getattr(self._dataset, "__getitems__", None)
        if callable(getitems):
            samples = getitems(index)
        else:
            samples = [self._dataset[i] for i in index]
        return self._collate_fn(samples)


class _StreamIterator:
    """One pass over an IterableDataset, grouped into batches when batch_size is set."""

    def __init__(self, loader):
        self._loader = loader
        self._samples = iter(loader.dataset)
        self._collate_fn = loader.collate_fn

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        loader = self._loader
        if loader.batch_size is None:
            return self._collate_fn(next(self._samples))
        batch = []
        for sample in self._samples:
            batch.append(sample)
            if len(batch) == loader.batch_size:
                break
        if not batch or (loader.drop_last and len(batch) < loader.batch_size):
            raise StopIteration
        return self._collate_fn(batch)
