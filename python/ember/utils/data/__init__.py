"""ember.utils.data: datasets, samplers and the DataLoader, mirroring torch.utils.data.

``num_workers > 0`` loads in worker processes (see DataLoader). A DataLoader over a
TensorDataset (or a Subset of one, as random_split returns) with the default collate gathers
each batch with one NumPy fancy-index per tensor instead of stacking samples one by one.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler)
from .split import random_split
from .worker import get_worker_info

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "default_collate", "default_convert", "get_worker_info",
           "random_split"]
