"""The main-process side of multi-process loading (``num_workers > 0``).

Tasks ``(task_index, batch_indices)`` go round-robin to the workers' index queues, at most
``prefetch_factor * num_workers`` in flight; results come back on one shared queue in any
order and are handed out in task order (``in_order=True``), so the batches and their order
equal those of ``num_workers=0``. Workers stop when the epoch ends (unless persistent), when
the loop is left early or an exception propagates (the iterator is then collected), and at
interpreter exit (they are daemons).
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import sys

from .worker import (STATUS_CHECK_INTERVAL, ExceptionWrapper, IterableDatasetStopIteration,
                     ResumeIteration, load_batch, worker_loop)

# How long shutdown waits for a worker to finish its current batch before terminating it.
_JOIN_TIMEOUT = 5.0

# The index queues of iterators not yet shut down. An iterator caught in a reference cycle
# (an exception's traceback holds it) is freed by the garbage collector, which runs the
# queues' own finalizers, closing them, before the iterator's __del__ could send the end
# marker; held here, the queues stay open until shutdown has used them.
_open_index_queues = set()


def default_context():
    """The start method: one the user chose with multiprocessing.set_start_method, else fork
    on Linux (as PyTorch there, up to Python 3.13), else the platform's default (spawn on
    Windows and macOS, where forking is unsafe with the system's libraries).

    Forking starts fast, shares the dataset copy-on-write and, unlike spawn and forkserver,
    needs neither a picklable dataset nor an ``if __name__ == "__main__"`` guard, which most
    tutorial scripts lack. Its hazard for ember, a child of a parent whose OpenMP pool has
    started, is handled in the worker: ember runs on one thread there, so no parallel region
    ever opens."""
    chosen = multiprocessing.get_start_method(allow_none=True)
    if chosen is None and sys.platform.startswith("linux"):
        chosen = "fork"
    return multiprocessing.get_context(chosen)


class MultiProcessIterator:
    """One pass (or, with persistent workers, every pass) of a DataLoader over workers."""

    def __init__(self, loader, base_seed):
        self._loader = loader
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._is_iterable = loader._is_iterable
        self._shutdown = True  # until every worker has started
        ctx = loader.multiprocessing_context or default_context()
        self._data_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        try:
            for worker_id in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()  # never block exit on tasks nobody will run
                worker = ctx.Process(
                    target=worker_loop, daemon=True,
                    args=(self._is_iterable, loader.dataset, index_queue, self._data_queue,
                          self._done_event, loader._auto_collation, loader.collate_fn,
                          loader.batch_size, loader.drop_last, base_seed,
                          loader.worker_init_fn, worker_id, self._num_workers, os.getpid()))
                worker.start()  # spawn/forkserver: fails here if the dataset cannot pickle
                self._index_queues.append(index_queue)
                _open_index_queues.add(index_queue)
                self._workers.append(worker)
        finally:
            self._shutdown = False
            if len(self._workers) < self._num_workers:
                self._shutdown_workers()  # stop the ones that did start
        self._reset(loader, first_epoch=True)

    def _reset(self, loader, first_epoch=False):
        """Starts an epoch; persistent workers first finish the last one (its leftovers are
        dropped) and restart their streams."""
        self._sampler_iter = (itertools.repeat(None) if self._is_iterable
                              else iter(loader._index_sampler))
        self._send_idx = 0  # next task to send
        self._rcvd_idx = 0  # next task to hand out
        self._task_info = {}  # task -> (worker,) in flight, or (worker, result) arrived early
        self._workers_active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_epoch:
            for index_queue in self._index_queues:
                index_queue.put(ResumeIteration())
            waiting = self._num_workers
            while waiting:
                task_index, _ = self._get_data()
                if isinstance(task_index, ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def __iter__(self):
        return self

    def workers_alive(self):
        return not self._shutdown and all(worker.is_alive() for worker in self._workers)

    def __len__(self):
        return len(self._loader)

    def _try_put_index(self):
        try:
            indices = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_active[worker_id]:
                break
        else:
            return  # every worker's stream has ended
        self._index_queues[worker_id].put((self._send_idx, indices))
        self._task_info[self._send_idx] = (worker_id,)
        self._send_idx += 1

    def _get_data(self):
        """The next (task_index, result) from any worker, watching for dead workers."""
        interval = self._timeout if self._timeout > 0 else STATUS_CHECK_INTERVAL
        while True:
            try:
                return self._data_queue.get(timeout=interval)
            except queue.Empty:
                dead = [w.pid for i, w in enumerate(self._workers)
                        if self._workers_active[i] and not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                        "unexpectedly") from None
                if self._timeout > 0:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds") from None

    def __next__(self):
        while True:
            if self._in_order:
                # Skip tasks sent to workers whose stream has since ended.
                while self._rcvd_idx < self._send_idx:
                    info = self._task_info[self._rcvd_idx]
                    if len(info) == 2 or self._workers_active[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                    self._rcvd_idx += 1
                if self._rcvd_idx == self._send_idx:
                    return self._end_epoch()
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2:
                    del self._task_info[self._rcvd_idx]
                    return self._process(info[1])
            elif not any(self._workers_active[info[0]] for info in self._task_info.values()):
                return self._end_epoch()  # nothing in flight that a live stream will answer
            task_index, result = self._get_data()
            if isinstance(result, IterableDatasetStopIteration):
                self._workers_active[result.worker_id] = False
                self._try_put_index()
                continue
            if self._in_order and task_index != self._rcvd_idx:
                self._task_info[task_index] += (result,)
                continue
            del self._task_info[task_index]
            return self._process(result)

    def _end_epoch(self):
        if not self._persistent:
            self._shutdown_workers()
        raise StopIteration

    def _process(self, result):
        self._rcvd_idx += 1
        self._try_put_index()
        if isinstance(result, ExceptionWrapper):
            result.reraise()
        return load_batch(result)

    def _shutdown_workers(self):
        """Stops and reaps every worker (idempotent): signal, send the end marker, join,
        terminate any that is still busy after _JOIN_TIMEOUT."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for worker, index_queue in zip(self._workers, self._index_queues):
            if worker.is_alive():
                index_queue.put(None)
        for worker in self._workers:
            worker.join(timeout=_JOIN_TIMEOUT)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for index_queue in self._index_queues:
            index_queue.close()
            _open_index_queues.discard(index_queue)
        self._data_queue.cancel_join_thread()
        self._data_queue.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # interpreter shutdown may have torn down what this needs
            pass
