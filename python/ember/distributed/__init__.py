"""ember.distributed: PyTorch's torch.distributed names over MPI (mpi4py), for data-parallel
training across processes and machines. Importing it needs nothing extra; init_process_group
needs `pip install "ember[mpi]"` and processes started by mpiexec (or
`python -m ember.distributed.run`)."""
from .collectives import all_gather, all_reduce, barrier, broadcast, reduce_scatter
from .errors import DistBackendError, DistError
from .process_group import (ProcessGroup, default_pg_timeout, destroy_process_group, get_backend,
                            get_rank, get_world_size, init_process_group, is_available,
                            is_initialized, is_mpi_available)
from .reduce_op import ReduceOp
from .work import Work

__all__ = ["DistBackendError", "DistError", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_reduce", "barrier", "broadcast", "default_pg_timeout", "destroy_process_group",
           "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
           "is_initialized", "is_mpi_available", "reduce_scatter"]
