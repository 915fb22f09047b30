"""Batch normalization whose training statistics cover the batches of all ranks (nn.SyncBatchNorm),
as PyTorch's sync_batch_norm function computes it. Forward: each rank's per-channel count, mean
and sum of squared deviations are all-gathered and combined in rank order (Chan's parallel
variance, which does not cancel as sum-of-squares minus squared sum does), so every rank
normalises with the same global mean and variance. Backward: the per-channel sums of dy and
dy * (x - mean) are all-reduced, since each input's gradient depends on every rank's outputs.
With world_size 1 the same arithmetic runs without messages (what the gradcheck exercises)."""
from __future__ import annotations

import numpy as np

from .. import _core
from ..autograd import Function
from ..tensor import Tensor


def _channel_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _all_gather_rows(row, process_group, world_size):
    """(world_size, len(row)): every rank's ``row``, in rank order."""
    if world_size == 1:
        return row[None]
    from ..distributed import all_gather
    rows = [Tensor._from_op(np.empty_like(row), None) for _ in range(world_size)]
    all_gather(rows, Tensor._from_op(row, None), group=process_group)
    return np.stack([r._array for r in rows])


def _all_reduce_sum(array, process_group, world_size):
    if world_size > 1:
        from ..distributed import all_reduce
        all_reduce(Tensor._from_op(array, None), group=process_group)
    return array


def _combine(stats, channels):
    """Global (count, mean, sum of squared deviations) from each rank's, taken in rank order;
    ranks with an empty batch add nothing."""
    count, mean, m2 = 0.0, np.zeros(channels), np.zeros(channels)
    for row in stats:
        n_r, mean_r, m2_r = row[0], row[1:channels + 1], row[channels + 1:]
        if n_r == 0:
            continue
        total = count + n_r
        delta = mean_r - mean
        mean = mean + delta * (n_r / total)
        m2 = m2 + m2_r + delta * delta * (count * n_r / total)
        count = total
    return count, mean, m2


class SyncBatchNorm(Function):
    """inputs: (input (N, C, ...), weight (C) or None, bias (C) or None). Updates running_mean
    and running_var (arrays or None) in place with the global statistics, the variance
    unbiased over the global count, as PyTorch does."""

    def forward(self, x, weight, bias, running_mean=None, running_var=None, eps=1e-5,
                momentum=0.1, process_group=None, world_size=1):
        channels = x.shape[1]
        axes = _channel_axes(x.ndim)
        n = x.size // channels
        local = np.zeros(2 * channels + 1)  # float64 whatever x is: the sums stay accurate
        if n > 0:
            mean = x.mean(axis=axes, dtype=np.float64)
            centred = x - _per_channel(mean, x.ndim)  # float64, as mean is
            local[0] = n
            local[1:channels + 1] = mean
            local[channels + 1:] = np.square(centred).sum(axis=axes)
        count, mean, m2 = _combine(_all_gather_rows(local, process_group, world_size), channels)
        if count <= 1:  # every rank sees the same count, so every rank raises
            raise ValueError(f"sync_batch_norm: Expected more than 1 value per channel when "
                             f"training, got {int(count)} over all ranks (input size "
                             f"{list(x.shape)} on this rank)")
        var = m2 / count
        for stat, new in ((running_mean, mean), (running_var, m2 / (count - 1))):
            if stat is not None:
                stat *= 1 - momentum
                stat += momentum * new.astype(stat.dtype, copy=False)
        self.x, self.weight, self.count = x, weight, count
        self.mean, self.invstd = mean, 1.0 / np.sqrt(var + eps)
        self.process_group, self.world_size = process_group, world_size
        if n == 0:
            return np.empty_like(x)
        return _core.batch_norm_forward_eval(x, mean.astype(x.dtype), var.astype(x.dtype),
                                             weight, bias, eps, False, False)

    def backward(self, g):
        need = self.needs_input_grad
        x, ndim = self.x, self.x.ndim
        axes = _channel_axes(ndim)
        centred = x - _per_channel(self.mean.astype(x.dtype), ndim)
        sums = np.concatenate([g.sum(axis=axes, dtype=np.float64),
                               (g * centred).sum(axis=axes, dtype=np.float64)])
        channels = x.shape[1]
        sum_dy, sum_dy_xmu = sums[:channels].copy(), sums[channels:].copy()
        grad_weight = (sum_dy_xmu * self.invstd).astype(x.dtype) if need[1] else None
        grad_bias = sum_dy.astype(x.dtype) if need[2] else None
        grad_input = None
        if need[0]:  # the global sums: every rank's outputs depend on this rank's input
            _all_reduce_sum(sums, self.process_group, self.world_size)
            mean_dy = sums[:channels] / self.count
            mean_dy_xmu = sums[channels:] / self.count
            scale = self.invstd if self.weight is None else self.invstd * self.weight
            grad_input = (g - _per_channel(mean_dy.astype(x.dtype), ndim)
                          - centred * _per_channel((self.invstd ** 2 * mean_dy_xmu)
                                                   .astype(x.dtype), ndim)) \
                * _per_channel(scale.astype(x.dtype), ndim)
        return grad_input, grad_weight, grad_bias


def sync_batch_norm(input, weight, bias, running_mean, running_var, eps, momentum,
                    process_group=None, world_size=1):
    """Training-mode batch norm over the batches of all ``world_size`` ranks of
    ``process_group`` (None: the default group)."""
    return SyncBatchNorm.apply(input, weight, bias,
                               running_mean=None if running_mean is None else running_mean._array,
                               running_var=None if running_var is None else running_var._array,
                               eps=float(eps), momentum=float(momentum),
                               process_group=process_group, world_size=int(world_size))
