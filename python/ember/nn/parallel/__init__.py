"""ember.nn.parallel: PyTorch's data-parallel wrappers: DataParallel (on ember's one CPU device
it runs the wrapped module directly) and DistributedDataParallel (across MPI processes)."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
