"""nn.SyncBatchNorm: batch normalization whose training statistics span the batches of every
rank of a data-parallel job (ember.distributed), and convert_sync_batchnorm, which swaps it in
for a model's BatchNorm layers. As in PyTorch it synchronises only while training with an
initialised process group of more than one rank; otherwise (eval mode, a single process) it
is plain batch norm."""
from __future__ import annotations

from ... import distributed as dist
from ...distributed.process_group import group_for
from ...ops.sync_batch_norm import sync_batch_norm
from .. import functional as F
from .._functional_sample_norm import _check_channel_vector
from .normalization import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over (N, C, +) input, per channel C, with the statistics of all
    ranks while training; ``process_group`` None means the whole world (the only group
    ember has)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input) -> None:
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._array[...] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._array)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        running_mean = self.running_mean if keep_stats else None
        running_var = self.running_var if keep_stats else None
        world_size = 1
        if bn_training and self.training and dist.is_initialized():
            world_size = group_for(self.process_group, "SyncBatchNorm").world_size
        if world_size == 1:  # nothing to synchronise with: batch norm, as PyTorch falls back
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias,
                                bn_training, factor, self.eps)
        # checked before any message is sent, so no rank is left waiting for one that raised
        for name, t in (("weight", self.weight), ("bias", self.bias),
                        ("running_mean", running_mean), ("running_var", running_var)):
            _check_channel_vector("SyncBatchNorm", name, t, input)
        return sync_batch_norm(input, self.weight, self.bias, running_mean, running_var,
                               self.eps, factor, self.process_group, world_size)

    def forward_fused_relu(self, input, fuse_relu=True):
        """forward followed by ReLU (the synchronised statistics leave no kernel to fuse into)."""
        output = self.forward(input)
        return F.relu(output) if fuse_relu else output

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Returns ``module`` with every BatchNorm layer in it replaced by a SyncBatchNorm that
        shares its parameters and buffers (a new SyncBatchNorm if ``module`` is one itself)."""
        output = module
        if isinstance(module, _BatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group,
                         bias=module.bias is not None)
            if module.affine:
                output.weight = module.weight
                output.bias = module.bias
            output.running_mean = module.running_mean
            output.running_var = module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output
