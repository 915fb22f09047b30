"""keras.distribution for ember: DataParallel over MPI ranks (one "cpu:r" device per rank).

Inside ``with keras.distribution.DataParallel().scope():`` (or after
``keras.distribution.set_distribution(keras.distribution.DataParallel())``) ``fit`` trains
data-parallel: ``batch_size`` is the global batch, each rank computes its contiguous share of
every batch, the gradients are averaged (weighted by share), and every rank takes the same
step, so 1 and N ranks train the same model. Logs (loss and metrics) are of the whole batch;
the progress bar, ModelCheckpoint, CSVLogger and TensorBoard run on rank 0 only. evaluate and
predict are not sharded: each rank runs them on all of its data. The shuffle order is drawn
from a seed rank 0 sends (so ember's random generator is reseeded by fit); batch-statistics
layers (BatchNormalization) are refused, as the ranks would each normalise their own share. The ranks come from
ember.distributed (MPI): start the script with ``python -m ember.distributed.run -n N``."""
from __future__ import annotations

import contextlib

_current = None


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Joins the MPI job (ember.distributed.init_process_group) unless already joined; the
    addresses, process count and id come from mpiexec, so passing different ones is an error."""
    if job_addresses is not None:
        raise NotImplementedError("keras.distribution.initialize: job_addresses is not "
                                  "supported; mpiexec (or a hostfile) places the processes")
    from .. import distributed as dist
    if not dist.is_initialized():
        dist.init_process_group("mpi", world_size=-1 if num_processes is None else num_processes,
                                rank=-1 if process_id is None else process_id)
    elif (num_processes not in (None, dist.get_world_size())
          or process_id not in (None, dist.get_rank())):
        raise ValueError(f"keras.distribution.initialize: the process group already has "
                         f"{dist.get_world_size()} processes and this is rank {dist.get_rank()}")


def list_devices(device_type=None):
    """One "cpu:r" per MPI rank once initialised, else this process's one CPU."""
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"keras.distribution.list_devices: ember only has cpu devices, got "
                         f"device_type={device_type!r}")
    from .. import distributed as dist
    n = dist.get_world_size() if dist.is_initialized() else 1
    return [f"cpu:{r}" for r in range(n)]


def get_device_count(device_type=None):
    return len(list_devices(device_type))


class DataParallel:
    """Replicates the model on every MPI rank and splits each batch between the ranks."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None:
            raise NotImplementedError("keras.distribution.DataParallel: device_mesh is not "
                                      "supported by ember; it uses every MPI rank")
        if not auto_shard_dataset:
            raise NotImplementedError("keras.distribution.DataParallel: auto_shard_dataset="
                                      "False is not supported; ember always shards each batch")
        initialize()
        all_devices = list_devices()
        if devices is not None and list(devices) != all_devices:
            raise NotImplementedError(f"keras.distribution.DataParallel: ember runs on every "
                                      f"MPI rank ({all_devices}); got devices={devices!r}")
        self._devices = all_devices
        self.auto_shard_dataset = True

    @property
    def devices(self):
        return list(self._devices)

    @contextlib.contextmanager
    def scope(self):
        """Makes this distribution current inside the block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)


def distribution():
    """The current distribution, or None."""
    return _current


def set_distribution(value):
    """Makes ``value`` (a DataParallel, or None) the current distribution."""
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise ValueError(f"keras.distribution.set_distribution: expected a DataParallel or "
                         f"None, got {type(value).__name__}")
    _current = value
