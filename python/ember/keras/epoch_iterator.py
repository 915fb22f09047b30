"""How fit / evaluate / predict walk through their data, epoch by epoch (Keras 3's
EpochIterator): ``steps_per_epoch`` (or evaluate/predict's ``steps``) batches per epoch, the
data's own length otherwise.

With ``steps_per_epoch`` the data is not restarted at each epoch: an epoch continues where the
previous one stopped, and the epoch that reaches the end of finite data (arrays, a PyDataset, a
DataLoader) stops there, with Keras' "ran out of data" warning, the next one starting over. A
Python generator is never restarted: once it is exhausted, Keras 3.15 replays the two batches it
peeked at to learn the data's structure; ember has no such buffer, so an epoch that gets no batch
at all ends training (with the same warning)."""
from __future__ import annotations

import collections.abc
import numbers
import warnings

from .py_dataset import PyDataset

_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
            "generator can generate at least `steps_per_epoch * epochs` batches. You may need "
            "to use the `.repeat()` function when building your dataset.")


def is_data_loader(data) -> bool:
    from ..utils.data import DataLoader

    return isinstance(data, DataLoader)


def is_generator(data) -> bool:
    """A Python generator or any other one-pass iterator of batches."""
    return isinstance(data, collections.abc.Iterator) and not isinstance(data, PyDataset)


def is_batched(data) -> bool:
    """Data that comes in whole batches of its own: a PyDataset, a generator or a DataLoader."""
    return isinstance(data, PyDataset) or is_generator(data) or is_data_loader(data)


def kind_of(data) -> str:
    """How Keras' messages name a batched source."""
    return ("PyDataset" if isinstance(data, PyDataset) else
            "DataLoader" if is_data_loader(data) else "generator")


def warn_if_shuffle_ignored(data, shuffle, num_batches):
    """Keras' warning: a generator, a DataLoader or an endless PyDataset is not shuffled."""
    if not shuffle or not is_batched(data) or (isinstance(data, PyDataset) and num_batches):
        return
    warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was "
                  "provided as " + {
                      "generator": "a generator. The generator is expected to yield already-"
                                   "shuffled data.",
                      "DataLoader": "an ember DataLoader. The DataLoader is expected to "
                                    "already be shuffled.",
                      "PyDataset": "an infinite PyDataset. The PyDataset is expected to "
                                   "already be shuffled."}[kind_of(data)], stacklevel=3)


def check_steps(name: str, steps):
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral)
                              or steps < 1):
        raise ValueError(f"{name} must be a positive integer or None. Received: "
                         f"{name}={steps!r}")
    return None if steps is None else int(steps)


class EpochIterator:
    """``new_pass()`` gives a fresh iterator over the data's batches (for a generator, the same
    generator again); ``num_batches`` is their count per pass, None when unknown; a
    PyDataset's on_epoch_begin/on_epoch_end run around every epoch, as Keras calls them."""

    def __init__(self, new_pass, num_batches, steps_per_epoch=None, dataset=None):
        self._new_pass = new_pass
        self._dataset = dataset
        self._num_batches = num_batches
        self.steps_per_epoch = steps_per_epoch
        self._current = None
        self._steps_seen = 0
        self.exhausted = False  # the data ran out before an epoch's first batch
        self._may_run_dry = num_batches is None  # a generator (or a DataLoader without len)

    @property
    def num_batches(self):
        """The batches per epoch as Keras reports them in ``params["steps"]``."""
        return self.steps_per_epoch or self._num_batches

    def epoch(self):
        """An iterator of (step, batch) over one epoch, or None when the data has nothing left
        (an exhausted generator): the caller then ends training. Data of unknown length is
        asked for the epoch's first batch here, to know that; other data only as the epoch
        runs, after the callbacks' on_epoch_begin, as in Keras."""
        if not self._may_run_dry:
            return self._steps(_LAZY)
        self._begin()
        first = self._next(0)
        if first is _END:
            if self._dataset is not None:
                self._dataset.on_epoch_end()
            return None
        return self._steps(first)

    def _begin(self):
        if self._dataset is not None:
            self._dataset.on_epoch_begin()
        if self._current is None or self.steps_per_epoch is None:
            self._current = iter(self._new_pass())
            self._steps_seen = 0

    def _steps(self, first):
        if first is _LAZY:
            self._begin()
            first = self._next(0)
        step, batch = 0, first
        while batch is not _END:
            yield step, batch
            step += 1
            batch = self._next(step)
        if self._num_batches and self._steps_seen >= self._num_batches:
            self._current = None  # the next epoch starts a new pass
        if self._dataset is not None:
            self._dataset.on_epoch_end()

    def _next(self, step):
        """The epoch's next batch, or _END (at the epoch's step count, or when the data ran
        out: Keras warns then, and learns a generator's length)."""
        steps = self.steps_per_epoch or self._num_batches
        if steps is not None and step >= steps:
            return _END
        if self._num_batches and self._steps_seen >= self._num_batches:
            if self.steps_per_epoch:
                warnings.warn(_RAN_OUT, stacklevel=4)
            return _END
        try:
            batch = next(self._current)
        except StopIteration:
            if self._num_batches is None:
                self._num_batches = self._steps_seen
            warnings.warn(_RAN_OUT, stacklevel=4)
            self._current = None
            self.exhausted = step == 0
            return _END
        self._steps_seen += 1
        return batch


_END = object()
_LAZY = object()  # the first batch, fetched when the epoch starts running
