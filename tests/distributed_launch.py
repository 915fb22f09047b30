"""Starting tests/distributed_worker.py on N ranks for the distributed tests, or skipping when
mpi4py or mpiexec is absent."""
import importlib.util
import os
import subprocess
import sys

import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where the ember these tests import lives (the installed package, or a source tree with its
# built kernels): the ranks must import the same one.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(
    importlib.util.find_spec("ember").origin)))


def require_mpi():
    from ember.distributed.run import find_mpiexec
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install \"ember[mpi]\")")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec is not installed")
    return mpiexec


def run_ranks(n, scenario, out_dir, *args, timeout=120, mpi_args=(), prefix=()):
    """Runs the worker's ``scenario`` on n ranks; returns the CompletedProcess."""
    from ember.distributed.run import mpiexec_command
    mpiexec = require_mpi()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [PYTHON_DIR] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    command, env = mpiexec_command(
        n, [sys.executable, WORKER, scenario, str(out_dir), *map(str, args)], mpiexec=mpiexec,
        mpi_args=["--oversubscribe", *mpi_args], env=env)
    return subprocess.run(list(prefix) + command, env=env, capture_output=True, text=True,
                          timeout=timeout)


def check_ok(result):
    assert result.returncode == 0, f"mpiexec failed:\n{result.stdout}\n{result.stderr}"
