"""What runs inside a DataLoader worker process, and what it tells the main process.

A worker takes tasks ``(task_index, batch_indices)`` from its own index queue, fetches and
collates the batch, and puts ``(task_index, pickled batch)`` on the shared result queue.
Batches are pickled here, in the worker's main thread, so a batch that cannot cross the
process boundary becomes an error the main process re-raises (multiprocessing would pickle in
a background thread and only print the error, leaving the main process waiting forever).
"""
from __future__ import annotations

import io
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

# How often (seconds) an idle worker checks that its parent is still alive.
STATUS_CHECK_INTERVAL = 1.0

_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``
    and ``dataset`` (this worker's copy). Read-only, as PyTorch's."""

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_keys", tuple(kwargs))

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{key}={getattr(self, key)}" for key in self._keys)
        return f"{type(self).__name__}({fields})"


def get_worker_info():
    """Inside a DataLoader worker process, its WorkerInfo; in the main process, None.

    An IterableDataset uses it in ``__iter__`` to give each worker its own share of the stream
    (each worker otherwise iterates a full copy of the dataset)."""
    return _worker_info


class IterableDatasetStopIteration:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at the start of each epoch after the first; echoed back."""


class _KeyErrorMessage(str):
    """KeyError prints repr() of its argument; this keeps the traceback's line breaks."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception raised in a worker, with its formatted traceback, to re-raise in the main
    process as PyTorch does: same type, message 'Caught X in DataLoader worker process N.'"""

    def __init__(self, where):
        exc_type, exc_value, exc_tb = sys.exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:  # a class the main process cannot look up (defined in a function)
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc_value, exc_tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type whose constructor takes other arguments
            raise RuntimeError(msg) from None
        raise exception


class _BatchPickler(pickle.Pickler):
    """Pickles a batch, refusing tensors that carry an autograd graph (as PyTorch does)."""

    def reducer_override(self, obj):
        from ...tensor import Tensor
        if isinstance(obj, Tensor) and obj.grad_fn is not None:
            raise RuntimeError(
                "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
                "autograd does not support crossing process boundaries. If you just want to "
                "transfer the data, call detach() on the tensor before serializing (e.g., "
                "putting it on the queue).")
        return NotImplemented


def dump_batch(batch) -> bytes:
    buffer = io.BytesIO()
    _BatchPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(batch)
    return buffer.getvalue()


def load_batch(payload: bytes):
    return pickle.loads(payload)


def _seed_everything(base_seed, worker_id):
    """Each worker its own reproducible streams: Python's random and ember's default
    generator get ``base_seed + worker_id`` (PyTorch's rule); NumPy's global generator a state
    derived from both."""
    from ... import random as ember_random
    seed = base_seed + worker_id
    random.seed(seed)
    ember_random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(is_iterable, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, batch_size, drop_last, base_seed, worker_init_fn, worker_id,
                num_workers, parent_pid):
    """The body of worker process ``worker_id`` (see the module docstring)."""
    global _worker_info
    try:
        # ember's kernels run on one thread here: a child forked from a parent whose OpenMP
        # (libgomp) pool has started must never open a parallel region of its own, and
        # workers in parallel already use the cores (PyTorch also sets 1 thread in workers).
        from ... import set_num_threads
        from .fetch import make_fetcher
        set_num_threads(1)
        seed = _seed_everything(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)

        where = f"in DataLoader worker process {worker_id}"

        def start(init_fn):
            """(fetcher, None), or (None, the error to send in reply to every task)."""
            try:
                if init_fn is not None:
                    init_fn(worker_id)
                return make_fetcher(is_iterable, dataset, auto_collation, collate_fn,
                                    batch_size, drop_last), None
            except Exception:
                return None, ExceptionWrapper(where=where)

        fetcher, init_error = start(worker_init_fn)
        init_failed = init_error is not None

        iteration_end = False
        while os.getppid() == parent_pid:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    # The end marker can be lost: when the main process's iterator is freed
                    # by the garbage collector, its queues' finalizers may have run first.
                    break
                continue
            if isinstance(task, ResumeIteration):
                data_queue.put((task, None))
                iteration_end = False
                if is_iterable and not init_failed:
                    fetcher, init_error = start(None)  # a new pass over this worker's stream
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # the main process no longer wants these results
            task_index, indices = task
            if init_error is not None:
                result = init_error
            else:
                try:
                    result = dump_batch(fetcher.fetch(indices))
                except Exception as error:
                    if is_iterable and isinstance(error, StopIteration):
                        result = IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        result = ExceptionWrapper(where=where)
            data_queue.put((task_index, result))
            del result, task, indices
    except KeyboardInterrupt:
        pass  # Ctrl+C reaches the whole process group; the main process handles it
    # Whatever ended the loop (the end marker, the parent's death, Ctrl+C), do not wait at
    # exit to flush results nobody will read.
    data_queue.cancel_join_thread()
    data_queue.close()
