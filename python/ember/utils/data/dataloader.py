"""DataLoader: batches of a dataset, in the calling process or in worker processes."""
from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.context
import numbers
import warnings

from ... import random as _random
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import make_fetcher
from .multiprocess_iterator import MultiProcessIterator
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _check_generator

# Attributes PyTorch freezes once the loader exists (changing them would desynchronise len()).
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterates over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    ``shuffle=True`` draws a new order each epoch from ``generator`` (or, without one, from a
    seed taken from ember's default generator, so ``ember.manual_seed`` makes it repeatable).

    ``num_workers > 0`` loads in that many worker processes (started by
    ``multiprocessing_context``, else forked on Linux, else by the platform's default start
    method), each collating whole batches; the main process receives the same batches in the same order as with
    ``num_workers=0``. Each epoch draws a base seed from ``generator``; worker ``i`` seeds
    Python's ``random`` and ember with ``base_seed + i`` (NumPy from both), so random
    augmentations differ between workers and repeat with the seed. ``get_worker_info()``
    inside a worker gives its id, num_workers, seed and dataset copy. ember kernels run on one
    thread inside workers. ``pin_memory=True`` is accepted and does nothing (with a warning),
    as in PyTorch on a machine without an accelerator: ember tensors live in ordinary memory.
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
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and (
                isinstance(prefetch_factor, bool) or prefetch_factor < 1
                or not isinstance(prefetch_factor, numbers.Integral)):
            # PyTorch admits 0, which silently loads nothing; ember says so instead.
            raise ValueError("prefetch_factor option should be a positive integer, got "
                             f"prefetch_factor={prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        multiprocessing_context = _check_context(multiprocessing_context, num_workers)
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
        self._iterator = None  # the persistent workers' iterator, kept between epochs
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
        if self.num_workers == 0:
            _draw_base_seed(self)
            return _SingleProcessIterator(self)
        if not self.persistent_workers:
            return MultiProcessIterator(self, _draw_base_seed(self))
        if self._iterator is None or not self._iterator.workers_alive():
            # First epoch, or the workers are gone (Ctrl+C stops them, and a script may catch
            # KeyboardInterrupt and go on): new workers.
            if self._iterator is not None:
                self._iterator._shutdown_workers()
            self._iterator = MultiProcessIterator(self, _draw_base_seed(self))
        else:
            self._iterator._reset(self)  # same workers, same seeds (as PyTorch)
        return self._iterator

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else -(-length // self.batch_size))
            return length
        return len(self._index_sampler)


def _check_context(context, num_workers):
    """The multiprocessing context to start workers with (None: the default one)."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                "multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context={context}")
    return context


def _draw_base_seed(loader):
    """Each iterator draws one seed from the loader's generator before the sampler draws,
    with or without workers (as PyTorch), so both see the same shuffled order."""
    return int(_random._resolve(loader.generator).integers(0, 2**63 - 1))


class _SingleProcessIterator:
    """One pass in the calling process: a fetcher per task, in the sampler's order."""

    def __init__(self, loader):
        self._loader = loader
        self._tasks = (itertools.repeat(None) if loader._is_iterable  # "the next batch"
                       else iter(loader._index_sampler))
        self._fetcher = make_fetcher(loader._is_iterable, loader.dataset,
                                     loader._auto_collation, loader.collate_fn,
                                     loader.batch_size, loader.drop_last)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        return self._fetcher.fetch(next(self._tasks))
