"""DistributedDataParallel over ember.distributed (MPI): every rank runs the whole module on its
share of the batch; parameters and buffers start from rank 0's; during each backward the
gradients are averaged across ranks in flat buckets, each bucket's all_reduce starting as soon
as its gradients are final (distributed/reducer.py), so every rank's optimizer takes the same
step as one process would on the whole batch."""
from __future__ import annotations

import contextlib

import numpy as np

from ... import autograd
from ...distributed.buckets import broadcast_arrays
from ...distributed.process_group import group_for
from ...distributed.reducer import Reducer
from ...distributed.work import Work
from ..module import Module

_UNSUPPORTED = ("delay_all_reduce_named_params", "param_to_hook_all_reduce", "mixed_precision",
                "device_mesh", "bucket_cap_mb_list")


class DistributedDataParallel(Module):
    """Wraps ``module`` (registered as ``.module``, so state_dict keys carry ``module.`` as in
    PyTorch). Gradients are averaged during a backward that follows this wrapper's forward, in
    buckets of ``bucket_cap_mb`` whose all_reduce overlaps the rest of backward, and are final
    when backward returns; inside ``no_sync()`` they only accumulate locally. BatchNorm
    normalises with each rank's own batch statistics (SyncBatchNorm with all of them); with
    broadcast_buffers=True rank 0's buffers (running statistics) are copied to every rank
    before each forward, as PyTorch does."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False,
                 bucket_cap_mb_list=None, batched_grad_copy=False, forward_sync_buffers=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an ember.nn.Module, got "
                            f"{type(module).__name__}")
        given = dict(delay_all_reduce_named_params=delay_all_reduce_named_params,
                     param_to_hook_all_reduce=param_to_hook_all_reduce,
                     mixed_precision=mixed_precision, device_mesh=device_mesh,
                     bucket_cap_mb_list=bucket_cap_mb_list)
        for name in _UNSUPPORTED:
            if given[name] is not None:
                raise NotImplementedError(f"DistributedDataParallel: {name} is not supported "
                                          "by ember")
        for name, value in (("gradient_as_bucket_view", gradient_as_bucket_view),
                            ("static_graph", static_graph),
                            ("skip_all_reduce_unused_params", skip_all_reduce_unused_params)):
            if value:
                raise NotImplementedError(f"DistributedDataParallel: {name}=True is not "
                                          "supported by ember")
        if device_ids:
            raise ValueError("DistributedDataParallel: device_ids names accelerators; ember "
                             "runs on the CPU, so leave it None")
        if bucket_cap_mb is not None and not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb!r}")
        self._pg = group_for(process_group, "DistributedDataParallel")
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.process_group = process_group
        self.broadcast_buffers = (broadcast_buffers if forward_sync_buffers is None
                                  else forward_sync_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._buffers_to_sync = [b for _, b in module.named_buffers()]
        self._reduction_queued = False
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._check_same_parameters()
        # PyTorch's first bucket is 1 MB (the last layers' gradients go out early) unless
        # bucket_cap_mb is given
        self._reducer = Reducer(self._pg, [p for _, p in self._params], self.bucket_bytes_cap,
                                None if bucket_cap_mb is None else self.bucket_bytes_cap,
                                "DistributedDataParallel gradient all_reduce")
        if init_sync:
            self._broadcast([p._array for _, p in module.named_parameters()]
                            + [b._array for b in self._buffers_to_sync])

    # ---- synchronising state ----------------------------------------------------------------
    def _check_same_parameters(self):
        """Refuses ranks whose modules differ (PyTorch's parameter shape verification)."""
        shapes = [tuple(p.shape) for _, p in self._params]
        signature = np.array([len(shapes), sum(hash(s) % 1000003 for s in shapes)], np.int64)
        low, high = signature.copy(), signature.copy()
        pg = self._pg
        for buf, op in ((low, pg.MPI.MIN), (high, pg.MPI.MAX)):
            Work(pg, pg.comm.Iallreduce(pg.MPI.IN_PLACE, buf, op),
                 "DistributedDataParallel").wait()
        if not np.array_equal(low, high):
            raise RuntimeError(f"DistributedDataParallel: the ranks' modules have different "
                               f"parameters (rank {pg.rank} has {len(shapes)} with shapes "
                               f"{shapes})")

    def _broadcast(self, arrays):
        """Copies rank 0's ``arrays`` to every rank, coalesced into buckets."""
        broadcast_arrays(self._pg, arrays, self.bucket_bytes_cap,
                         "DistributedDataParallel broadcast")

    # ---- forward and the gradient reduction -------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self.require_forward_param_sync and self.broadcast_buffers and self._buffers_to_sync:
            self._broadcast([b._array for b in self._buffers_to_sync])
        output = self.module(*inputs, **kwargs)
        # (flags set only when they change: Module.__setattr__ costs microseconds a call)
        sync = autograd.is_grad_enabled() and self.require_backward_grad_sync
        if self.require_forward_param_sync != sync:
            self.require_forward_param_sync = sync
        if sync and not self._reduction_queued:
            self._reduction_queued = True
            self._reducer.prepare()
            autograd.queue_callback(self._reduce_gradients)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Backwards inside this block accumulate gradients on each rank without averaging them;
        the first synchronised backward after it averages the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _reduce_gradients(self):
        self._reduction_queued = False
        pg = self._pg
        pg.check_usable("DistributedDataParallel")
        used = [p.grad is not None for _, p in self._params]
        if not self.find_unused_parameters and not all(used):
            unused = [n for (n, _), u in zip(self._params, used) if not u]
            self._reducer.abandon()
            raise RuntimeError(
                "DistributedDataParallel: parameters that were not used in producing the loss "
                f"have no gradient on rank {pg.rank}: {unused}. Pass find_unused_parameters="
                "True to DistributedDataParallel, or make sure every forward output takes "
                "part in the loss.")
        if pg.world_size == 1:  # the average of one gradient is itself
            return
        self._reducer.start_remaining()
        if self.find_unused_parameters:  # which parameters some rank used
            used = np.array(used, np.int32)
            Work(pg, pg.comm.Iallreduce(pg.MPI.IN_PLACE, used, pg.MPI.MAX),
                 "DistributedDataParallel").wait()
        self._reducer.complete(used)
