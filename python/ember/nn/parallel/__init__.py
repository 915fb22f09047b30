"""ember.nn.parallel: PyTorch's data-parallel wrappers, which on ember's one CPU device run the
wrapped module directly."""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
