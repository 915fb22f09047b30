"""DistributedDataParallel's gradient averaging with the all_reduce overlapping backward, as
PyTorch's Reducer does it: the parameters are split into buckets (reverse order, since backward
produces the last layer's gradients first); a post-accumulate-grad hook on every parameter
counts down its bucket, and a bucket whose gradients are all final starts its non-blocking
all_reduce while backward goes on with the layers before it. Buckets start strictly in bucket
order, so every rank issues the same collectives in the same order (MPI's rule) even when
their gradients become ready in another order. At the end of backward ``start_remaining``
starts what is left (buckets holding unused parameters) and ``complete`` waits for everything,
under the group's timeout, and writes the averages back into the gradients."""
from __future__ import annotations

import weakref

import numpy as np

from ..tensor import Tensor
from .buckets import plan_buckets
from .work import Work


class Reducer:
    """Averages the ``.grad`` of ``params`` over the ranks of ``pg`` once per armed backward.
    ``overlap=False`` starts every bucket at the end of backward instead (the same messages in
    the same order, so the same bits); bench/distributed.py compares the two."""

    def __init__(self, pg, params, cap_bytes, first_cap_bytes, what):
        self.pg = pg
        self.params = list(params)
        self.what = what
        self.overlap = True
        self.buckets = plan_buckets([p._array for p in self.params], cap_bytes, first_cap_bytes)
        self._flat = ([_FlatBucket(indices, self.params) for indices in self.buckets]
                      if pg.world_size > 1 else [])  # one rank averages nothing
        self._bucket_of = {i: k for k, indices in enumerate(self.buckets) for i in indices}
        self._armed = False
        self._in_flight = []  # (Work, _FlatBucket, {index: gradient array})
        self._zeros = {}  # stand-ins for the gradients of parameters unused on this rank
        self._handles = []
        # Hooks only where they can help: one rank has nothing to average, and a single bucket
        # (a small model's every gradient) cannot start before backward's end anyway, so its
        # hooks would only add Python calls to every parameter's backward.
        if pg.world_size > 1 and len(self.buckets) > 1:
            self._handles = [p.register_post_accumulate_grad_hook(_ready_hook(weakref.ref(self), i))
                             for i, p in enumerate(self.params)]
            weakref.finalize(self, _remove_all, self._handles)

    def prepare(self):
        """Arms the reducer for the next backward (called by a forward that will sync)."""
        self._drain()
        self._armed = True
        self._waiting = [len(b) for b in self.buckets]  # gradients each bucket still waits for
        self._next = 0  # the next bucket to start
        self._seen = set()

    def mark_ready(self, index):
        """The hook of parameter ``index``: its gradient for this backward is complete."""
        if not self._armed or not self.overlap or index in self._seen:
            return
        self._seen.add(index)
        k = self._bucket_of[index]
        self._waiting[k] -= 1
        while self._next < len(self.buckets) and self._waiting[self._next] == 0:
            self._start({i: self.params[i].grad._array for i in self.buckets[self._next]})
        for work, *_ in self._in_flight:  # each Test moves MPI's progress engine on
            work.is_completed()

    def _start(self, grads):
        """Starts bucket self._next's all_reduce on ``grads`` ({parameter index: array})."""
        self.pg.check_usable(self.what)  # a timed-out group takes no new collectives
        bucket = self._flat[self._next]
        bucket.scale_in(grads, 1 / self.pg.world_size)  # PyTorch divides before summing, as here
        request = self.pg.comm.Iallreduce(self.pg.MPI.IN_PLACE, bucket.flat, self.pg.MPI.SUM)
        self._in_flight.append((Work(self.pg, request, self.what), bucket, grads))
        self._next += 1

    def start_remaining(self):
        """At the end of backward: starts the buckets not started yet; a parameter without a
        gradient (unused on this rank) counts as zeros, kept for ``complete``."""
        self._armed = False
        self._zeros = {}
        while self._next < len(self.buckets):
            grads = {}
            for i in self.buckets[self._next]:
                p = self.params[i]
                if p.grad is None:
                    grads[i] = self._zeros[i] = np.zeros(p.shape, p._array.dtype)
                else:
                    grads[i] = p.grad._array
            self._start(grads)

    def complete(self, used):
        """Waits for every bucket, writes the averages back into the gradients, and gives a
        parameter without a gradient whose ``used[i]`` is set (used on another rank) the
        average as its .grad."""
        in_flight, self._in_flight = self._in_flight, []
        for work, bucket, grads in in_flight:
            work.wait()
            bucket.copy_out(grads)
        for i, g in self._zeros.items():
            if used[i]:
                self.params[i].grad = Tensor._from_op(g, None)

    def abandon(self):
        """Ends an armed backward without averaging (DDP is about to raise): waits for the
        buckets already started, so no request is left behind."""
        self._armed = False
        self._drain()

    def _drain(self):
        """Waits for buckets an interrupted backward started, so the ranks stay in step."""
        in_flight, self._in_flight = self._in_flight, []
        for work, *_ in in_flight:
            work.wait()


class _FlatBucket:
    """One bucket's flat buffer, kept from step to step (a bucket is started at most once per
    backward and waited for before the next), with views of it shaped like its parameters: the
    gradients are scaled into it and the averages copied back without a concatenation or a new
    buffer per step."""

    def __init__(self, indices, params):
        self.indices = indices
        arrays = [params[i]._array for i in indices]
        self.flat = np.empty(sum(a.size for a in arrays), arrays[0].dtype)
        self.views, offset = [], 0
        for a in arrays:
            self.views.append(self.flat[offset:offset + a.size].reshape(a.shape))
            offset += a.size

    def scale_in(self, grads, scale):
        scale = self.flat.dtype.type(scale)  # (a NumPy scalar: a Python float costs a conversion)
        for i, view in zip(self.indices, self.views):
            np.multiply(grads[i], scale, out=view)

    def copy_out(self, grads):
        for i, view in zip(self.indices, self.views):
            grads[i][...] = view  # (half the time of np.copyto for small arrays)


def _ready_hook(reducer_ref, index):
    def hook(param):  # weak: the hook must not keep a dropped DistributedDataParallel alive
        reducer = reducer_ref()
        if reducer is not None:
            reducer.mark_ready(index)
    return hook


def _remove_all(handles):
    for handle in handles:
        handle.remove()
