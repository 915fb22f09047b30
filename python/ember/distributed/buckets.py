"""Flat buckets of same-dtype arrays: one MPI message per bucket instead of one per parameter
(DistributedDataParallel, Keras fit under DataParallel), the way PyTorch's Reducer coalesces gradients (parameters in reverse order, since backward
produces the last layer's gradients first, and a small first bucket)."""
from __future__ import annotations

import numpy as np

from .work import Work

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES


def plan_buckets(arrays, cap_bytes, first_cap_bytes=None):
    """Lists of indices into ``arrays``: same dtype, in reverse order, about cap_bytes each
    (the first one first_cap_bytes, by default PyTorch's 1 MB)."""
    buckets, open_by_dtype = [], {}
    first_cap = _FIRST_BUCKET_BYTES if first_cap_bytes is None else first_cap_bytes
    for i in reversed(range(len(arrays))):
        a = arrays[i]
        cap = first_cap if not buckets else cap_bytes
        entry = open_by_dtype.get(a.dtype)
        if entry is None or entry[1] + a.nbytes > max(entry[2], a.nbytes):
            entry = [[], 0, cap]
            open_by_dtype[a.dtype] = entry
            buckets.append(entry[0])
        entry[0].append(i)
        entry[1] += a.nbytes
    return buckets


def pack(arrays, indices):
    """One contiguous copy of the arrays at ``indices``, back to back."""
    return np.concatenate([arrays[i].reshape(-1) for i in indices]) if len(indices) > 1 else \
        np.array(arrays[indices[0]].reshape(-1), copy=True)


def unpack(flat, arrays, indices):
    """Writes ``flat`` back into the arrays at ``indices`` (in place)."""
    offset = 0
    for i in indices:
        a = arrays[i]
        np.copyto(a, flat[offset:offset + a.size].reshape(a.shape))
        offset += a.size


def broadcast_arrays(pg, arrays, cap_bytes, what):
    """Overwrites ``arrays`` (in place) with rank 0's, one MPI broadcast per bucket."""
    arrays = [a for a in arrays if a.size]
    for indices in plan_buckets(arrays, cap_bytes):
        flat = pack(arrays, indices)
        Work(pg, pg.comm.Ibcast(flat, root=0), what).wait()
        unpack(flat, arrays, indices)


def sum_arrays(pg, arrays, scale, cap_bytes, what):
    """Replaces each array (in place) by the sum over ranks of ``scale`` times it: every
    bucket's all_reduce is started before the first is waited for."""
    works = []
    for indices in plan_buckets(arrays, cap_bytes):
        flat = pack(arrays, indices)
        flat *= scale
        works.append((Work(pg, pg.comm.Iallreduce(pg.MPI.IN_PLACE, flat, pg.MPI.SUM), what),
                      flat, indices))
    for work, flat, indices in works:
        work.wait()
        unpack(flat, arrays, indices)
