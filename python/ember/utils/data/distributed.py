"""DistributedSampler: each rank's share of a dataset, with PyTorch's split (pad by repeating
the start, or drop the tail, then every num_replicas-th index from ``rank``). The shuffled
order is a permutation from ember's generator seeded with seed + epoch, the same on every rank;
its stream differs from PyTorch's randperm, the split of it does not."""
from __future__ import annotations

import math
import numbers

from ... import random as _random
from .sampler import Sampler


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"DistributedSampler: {name} must be an int, got {value!r}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got "
                             f"{num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = bool(shuffle)
        self.seed = int(seed)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            rng = _random.Generator().manual_seed(self.seed + self.epoch).rng
            indices = rng.permutation(n).tolist()
        else:
            indices = list(range(n))
        return iter(split_for_rank(indices, self.total_size, self.num_replicas, self.rank,
                                   self.drop_last))

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Reseeds the shuffle: call it at the start of every epoch so each sees a new order."""
        self.epoch = epoch


def split_for_rank(indices, total_size, num_replicas, rank, drop_last):
    """``rank``'s indices of ``indices`` padded (by repeating from the start) or cut to
    total_size, as PyTorch's DistributedSampler splits them."""
    if not drop_last:
        padding = total_size - len(indices)
        if padding <= len(indices):
            indices = indices + indices[:padding]
        elif indices:
            indices = indices + (indices * math.ceil(padding / len(indices)))[:padding]
    else:
        indices = indices[:total_size]
    return indices[rank:total_size:num_replicas]
