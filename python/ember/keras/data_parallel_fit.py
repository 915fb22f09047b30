"""fit's training step under keras.distribution.DataParallel: each rank computes its share of
the global batch, gradients and the loss are summed across ranks weighted by the share (the
loss is a mean over the batch, so that is the whole batch's), and the outputs are gathered so
every rank's metrics see the whole batch. Every MPI call waits against the process group's
timeout (ember.distributed.Work)."""
from __future__ import annotations

import warnings

import numpy as np

import ember
from . import callbacks as callbacks_module
from .compile_utils import is_nested
from .data_adapter import slice_data
from .layers import call_context
from ..distributed.buckets import broadcast_arrays, sum_arrays
from ..distributed.process_group import group_for
from ..distributed.work import Work

_BUCKET_BYTES = 25 * 1024 * 1024
# callbacks that print or write files: one copy, on rank 0
_RANK_ZERO_ONLY = ("ProgbarLogger", "ModelCheckpoint", "CSVLogger", "TensorBoard")


def _refuse_batch_statistics(model):
    """Keras' DataParallel normalises with the whole batch's statistics; ember's ranks each see
    only their share, so a batch-statistics layer would train a different model."""
    from ..nn.modules.normalization import _BatchNorm
    from .layers.batch_normalization import BatchNormalization
    for name, module in model.named_modules():
        if isinstance(module, (BatchNormalization, _BatchNorm)):
            raise NotImplementedError(
                f"fit under keras.distribution.DataParallel: {type(module).__name__} "
                f"({name or 'the model'}) would normalise each rank's share of the batch with "
                "its own statistics instead of the whole batch's (synchronised batch "
                "normalisation is not implemented in ember)")


class DataParallelFit:
    def __init__(self, model):
        self.model = model
        self.pg = group_for(None, "keras fit under DataParallel")
        self.rank, self.size = self.pg.rank, self.pg.world_size
        self._synced = False
        _refuse_batch_statistics(model)
        self._sync_shuffle()

    # ---- what each rank shows --------------------------------------------------------------
    def verbose(self, verbose):
        return verbose if self.rank == 0 else 0

    def callbacks(self, cbs):
        if self.rank == 0:
            return cbs
        writers = tuple(getattr(callbacks_module, name) for name in _RANK_ZERO_ONLY)
        return [c for c in cbs if not isinstance(c, writers)]

    # ---- keeping the ranks identical -------------------------------------------------------
    def _wait(self, request, what):
        Work(self.pg, request, f"fit under DataParallel: {what}").wait()

    def _sync_shuffle(self):
        """Every rank must cut the same global batches: rank 0's seed for the shuffle."""
        seed = np.array([ember.randint(0, 2 ** 62, ()).item()], np.int64)
        self._wait(self.pg.comm.Ibcast(seed, root=0), "broadcast of the shuffle seed")
        ember.manual_seed(int(seed[0]))

    def _sync_weights(self, x_shard):
        """Builds the model (a forward without gradients if it is not built) and copies rank
        0's weights and buffers to every rank, once, before the first step."""
        model = self.model
        if not getattr(model, "built", True):
            with ember.no_grad(), call_context.inference():
                model(x_shard)
        broadcast_arrays(self.pg, [p._array for p in model.parameters()]
                         + [b._array for b in model.buffers()], _BUCKET_BYTES,
                         "fit under DataParallel: broadcast of the weights")
        self._synced = True

    # ---- one step ------------------------------------------------------------------------
    def train_batch(self, xb, yb, swb):
        model = self.model
        if is_nested(xb) or is_nested(yb):
            raise NotImplementedError("fit under keras.distribution.DataParallel: models with "
                                      "several inputs or outputs are not supported by ember")
        m = len(xb)
        if m < self.size:
            raise ValueError(f"fit under keras.distribution.DataParallel: a batch of {m} "
                             f"samples cannot be split between {self.size} ranks; use a "
                             f"batch_size and a dataset size that leave each rank a sample")
        bounds = np.linspace(0, m, self.size + 1).round().astype(int)  # contiguous shares
        rows = np.arange(bounds[self.rank], bounds[self.rank + 1])
        x, y, sw = slice_data(xb, rows), slice_data(yb, rows), slice_data(swb, rows)
        if not self._synced:
            self._sync_weights(ember.from_numpy(np.asarray(x)))
        loss, _, y_pred, n = model._forward_loss(x, y, True, sw)
        params = list(model.parameters())
        if not any(p.requires_grad for p in params):
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        else:
            if not model.optimizer.built:
                model.optimizer.build(params)
            for p in params:
                p.grad = None
            loss.backward()
            self._sum_gradients(params, n / m)
            model.optimizer.step(params)
        total = np.array([float(loss.item()) * n / m])
        self._wait(self.pg.comm.Iallreduce(self.pg.MPI.IN_PLACE, total, self.pg.MPI.SUM),
                   "all_reduce of the loss")
        model._loss_tracker.update_state(float(total[0]), sample_weight=m)
        if yb is not None:
            model._compile_metrics.update_state(yb, self._gather(y_pred, bounds), swb)

    def _sum_gradients(self, params, share):
        """Each rank's gradient (of its share's mean loss) times its share, summed."""
        grads = [p.grad._array if p.grad is not None else np.zeros(p.shape, p._array.dtype)
                 for p in params if p.requires_grad]
        with_grad = [p for p in params if p.requires_grad]
        sum_arrays(self.pg, grads, share, _BUCKET_BYTES,
                   "fit under DataParallel: gradient all_reduce")
        for p, g in zip(with_grad, grads):
            if p.grad is None:
                p.grad = ember.Tensor._from_op(g, None)

    def _gather(self, y_pred, bounds):
        """The whole batch's outputs, in order, on every rank."""
        local = np.ascontiguousarray(y_pred.detach().numpy())
        largest = int(np.diff(bounds).max())
        padded = np.zeros((largest,) + local.shape[1:], local.dtype)
        padded[:len(local)] = local
        gathered = np.empty((self.size,) + padded.shape, local.dtype)
        self._wait(self.pg.comm.Iallgather(padded, gathered), "all_gather of the outputs")
        parts = [gathered[r, :bounds[r + 1] - bounds[r]] for r in range(self.size)]
        return ember.from_numpy(np.concatenate(parts))
