"""Fetchers: turn one task (a batch of indices, or "the next batch" of a stream) into a batch.

The single-process iterator and every worker process use the same fetchers, so a batch is
made the same way wherever it is made.
"""
from __future__ import annotations

from .collate import default_collate
from .fast_gather import tensor_gather_plan


class MapFetcher:
    """Fetches ``dataset[i]`` for the indices of a task and collates them."""

    def __init__(self, dataset, auto_collation, collate_fn):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self._gather = None
        if auto_collation and collate_fn is default_collate:
            self._gather = tensor_gather_plan(dataset)

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self._gather is not None:
            batch = self._gather(index)
            if batch is not None:
                return batch
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            samples = getitems(index)
        else:
            samples = [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class StreamFetcher:
    """Takes the next sample (or ``batch_size`` samples) from an IterableDataset's iterator;
    raises StopIteration when the stream has nothing more to give."""

    def __init__(self, dataset, batch_size, drop_last, collate_fn):
        self.samples = iter(dataset)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.collate_fn = collate_fn

    def fetch(self, index=None):
        if self.batch_size is None:
            return self.collate_fn(next(self.samples))
        batch = []
        for sample in self.samples:
            batch.append(sample)
            if len(batch) == self.batch_size:
                break
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def make_fetcher(is_iterable, dataset, auto_collation, collate_fn, batch_size, drop_last):
    if is_iterable:
        return StreamFetcher(dataset, batch_size if auto_collation else None, drop_last,
                             collate_fn)
    return MapFetcher(dataset, auto_collation, collate_fn)
