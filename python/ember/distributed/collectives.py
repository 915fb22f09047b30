"""The collectives with PyTorch's names and in-place semantics, each an MPI non-blocking
collective waited on through Work (so it honours the group's timeout). Tensors are ember
tensors; results are written into their arrays."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from .process_group import group_for
from .reduce_op import ReduceOp, mpi_op
from .work import Work


def _array(tensor, what, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"ember.distributed.{what}: {name} must be an ember.Tensor, got "
                        f"{type(tensor).__name__}")
    return tensor._array


def _buffer(array):
    """A C-contiguous array MPI can read and write; a copy when ``array`` is a strided view."""
    return array if array.flags.c_contiguous and array.flags.writeable else \
        np.ascontiguousarray(array)


def _copy_back(target, buf):
    if buf is not target:
        np.copyto(target, buf)


def _run(pg, request, what, finish, async_op):
    work = Work(pg, request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``tensor`` across all ranks in place; every rank ends with the result."""
    pg = group_for(group, "all_reduce")
    array = _array(tensor, "all_reduce")
    MPI = pg.MPI
    mop = mpi_op(op, MPI, "ember.distributed.all_reduce")
    if op is ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"ember.distributed.all_reduce: ReduceOp.AVG needs a floating-point "
                        f"tensor, got dtype {array.dtype}")
    buf = _buffer(array)

    def finish():
        if op is ReduceOp.AVG:
            buf[...] /= pg.world_size
        _copy_back(array, buf)
    request = pg.comm.Iallreduce(MPI.IN_PLACE, buf, mop)
    return _run(pg, request, "all_reduce", finish, async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copies rank ``src``'s tensor into ``tensor`` on every other rank."""
    pg = group_for(group, "broadcast")
    if src is None:
        src = group_src
    if src is None:
        raise ValueError("ember.distributed.broadcast: src (the sending rank) is required")
    if (isinstance(src, bool) or not isinstance(src, numbers.Integral)
            or not 0 <= src < pg.world_size):
        raise ValueError(f"ember.distributed.broadcast: src={src!r} is not a rank of a group "
                         f"of {pg.world_size}")
    array = _array(tensor, "broadcast")
    buf = _buffer(array)
    request = pg.comm.Ibcast(buf, root=int(src))
    return _run(pg, request, "broadcast", lambda: _copy_back(array, buf), async_op)


def _check_list(tensor_list, like, pg, what, name):
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != pg.world_size:
        raise ValueError(f"ember.distributed.{what}: {name} must be a list of world_size="
                         f"{pg.world_size} tensors, got {tensor_list!r:.80}")
    for t in tensor_list:
        a = _array(t, what, name)
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"ember.distributed.{what}: every tensor in {name} must have "
                             f"shape {tuple(like.shape)} and dtype {like.dtype}, got "
                             f"{tuple(a.shape)} {a.dtype}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] receives rank r's ``tensor`` on every rank."""
    pg = group_for(group, "all_gather")
    array = _array(tensor, "all_gather")
    _check_list(tensor_list, array, pg, "all_gather", "tensor_list")
    send = np.ascontiguousarray(array)
    recv = np.empty((pg.world_size,) + array.shape, array.dtype)

    def finish():
        for r, t in enumerate(tensor_list):
            np.copyto(t._array, recv[r])
    request = pg.comm.Iallgather(send, recv)
    return _run(pg, request, "all_gather", finish, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces input_list[r] over all ranks and leaves the result in rank r's ``output``."""
    pg = group_for(group, "reduce_scatter")
    array = _array(output, "reduce_scatter", "output")
    _check_list(input_list, array, pg, "reduce_scatter", "input_list")
    MPI = pg.MPI
    mop = mpi_op(op, MPI, "ember.distributed.reduce_scatter")
    if op is ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"ember.distributed.reduce_scatter: ReduceOp.AVG needs a floating-point "
                        f"tensor, got dtype {array.dtype}")
    send = np.stack([t._array for t in input_list])
    buf = _buffer(array)

    def finish():
        if op is ReduceOp.AVG:
            buf[...] /= pg.world_size
        _copy_back(array, buf)
    request = pg.comm.Ireduce_scatter_block(send, buf, mop)
    return _run(pg, request, "reduce_scatter", finish, async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Returns once every rank has reached the barrier (or raises after the timeout)."""
    pg = group_for(group, "barrier")
    work = Work(pg, pg.comm.Ibarrier(), "barrier")
    if async_op:
        return work
    work.wait(timeout)
    return None
