"""The default process group over MPI (COMM_WORLD) and its lifetime: init_process_group,
destroy_process_group and the rank/size queries, with PyTorch's names and errors."""
from __future__ import annotations

import atexit
import datetime
import sys

from ._mpi import load_mpi, mpi_importable
from .errors import DistBackendError
from .work import to_seconds

default_pg_timeout = datetime.timedelta(minutes=30)  # PyTorch's default


class ProcessGroup:
    """The ranks of one MPI communicator, the timeout every collective on them honours, and
    whether a timed-out collective has left them unusable."""

    def __init__(self, MPI, comm, timeout_seconds):
        self.MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()
        self.timeout_seconds = timeout_seconds
        self.broken = None  # the collective that timed out, once one has

    def size(self):
        return self.world_size

    def mark_broken(self, what):
        self.broken = what

    def check_usable(self, what):
        if self.broken is not None:
            raise DistBackendError(
                f"ember.distributed.{what}: the process group is broken (a {self.broken} timed "
                "out earlier); MPI cannot recover from that, so the job has to be restarted")


_default_group = None
_abort_registered = False


def _require_group(what) -> ProcessGroup:
    if _default_group is None:
        raise ValueError(f"ember.distributed.{what}: Default process group has not been "
                         "initialized, please make sure to call init_process_group.")
    return _default_group


def group_for(group, what, usable=True) -> ProcessGroup:
    """The group a call runs on: only the default (WORLD) group exists in ember."""
    if group is not None and group is not _default_group:
        raise NotImplementedError(f"ember.distributed.{what}: only the default process group "
                                  "(group=None) is supported; new_group is not implemented")
    pg = _require_group(what)
    if usable:
        pg.check_usable(what)
    return pg


def is_available() -> bool:
    """Whether the MPI backend can be used: mpi4py is installed."""
    return mpi_importable()


def is_mpi_available() -> bool:
    return mpi_importable()


def is_initialized() -> bool:
    return _default_group is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Joins the MPI job this process was started in (by mpiexec, or alone as one rank).
    Ranks and the world size come from MPI; passing different ones is an error."""
    global _default_group, _abort_registered
    if backend is not None and str(backend).lower() != "mpi":
        raise NotImplementedError(f"ember.distributed.init_process_group: backend {backend!r} "
                                  "is not supported; ember's CPU backend is 'mpi'")
    for name, value in (("init_method", init_method), ("store", store),
                        ("pg_options", pg_options), ("device_id", device_id)):
        if value is not None:
            raise NotImplementedError(f"ember.distributed.init_process_group: {name} is not "
                                      "supported by the MPI backend (mpiexec starts the ranks)")
    if _default_group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    seconds = to_seconds(default_pg_timeout if timeout is None else timeout)
    MPI = load_mpi()
    comm = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, comm.Get_size()),
                                ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"ember.distributed.init_process_group: {name}={given} but MPI "
                             f"started this process with {name} {actual}")
    _default_group = ProcessGroup(MPI, comm, seconds)
    if not _abort_registered:
        atexit.register(_abort_if_broken)
        _abort_registered = True


def destroy_process_group(group=None):
    """Forgets the default group; MPI itself is finalised by mpi4py when the process exits."""
    global _default_group
    if group is not None and group is not _default_group:
        raise NotImplementedError("ember.distributed.destroy_process_group: only the default "
                                  "process group exists")
    _require_group("destroy_process_group")
    if _default_group.broken is None:
        _default_group = None


def get_rank(group=None) -> int:
    return group_for(group, "get_rank", usable=False).rank


def get_world_size(group=None) -> int:
    return group_for(group, "get_world_size", usable=False).world_size


def get_backend(group=None) -> str:
    group_for(group, "get_backend", usable=False)
    return "mpi"


def _abort_if_broken():
    """A started collective can never be cancelled, and MPI_Finalize would wait for it: after
    a timeout the only way out that does not hang is to abort the whole job."""
    pg = _default_group
    if pg is not None and pg.broken is not None:
        sys.stderr.write(f"ember.distributed: aborting the MPI job after the timed-out "
                         f"{pg.broken} on rank {pg.rank}\n")
        sys.stderr.flush()
        pg.comm.Abort(1)
