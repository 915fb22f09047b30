"""The launcher `python -m ember.distributed.run`: the mpiexec command it builds, and a real
run of a script on two ranks."""
import os
import subprocess
import sys

import pytest

from distributed_launch import PYTHON_DIR, require_mpi
from ember.distributed import run


@pytest.fixture
def fake_open_mpi(monkeypatch):
    monkeypatch.setattr(run, "is_open_mpi", lambda mpiexec: True)


def test_oversubscribe_only_beyond_the_cores(fake_open_mpi):
    cores = os.cpu_count() or 1
    few, _ = run.mpiexec_command(cores, ["python", "t.py"], mpiexec="mpiexec", env={})
    many, _ = run.mpiexec_command(cores + 1, ["python", "t.py"], mpiexec="mpiexec", env={})
    assert "--oversubscribe" not in few
    assert many[:3] == ["mpiexec", "-n", str(cores + 1)] and "--oversubscribe" in many
    assert many[-2:] == ["python", "t.py"]


def test_root_flags_only_as_root(fake_open_mpi, monkeypatch):
    for uid, expected in ((0, True), (1000, False)):
        monkeypatch.setattr(os, "geteuid", lambda: uid)
        _, env = run.mpiexec_command(1, ["x"], mpiexec="mpiexec", env={})
        assert ("OMPI_ALLOW_RUN_AS_ROOT" in env) is expected
        assert ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM" in env) is expected


def test_hostfile_is_passed_with_the_environment(fake_open_mpi):
    argv, env = run.mpiexec_command(8, ["python", "t.py"], mpiexec="mpiexec",
                                    hostfile="hosts.txt", env={"PYTHONPATH": "/p"})
    assert argv[argv.index("--hostfile") + 1] == "hosts.txt"
    assert "--oversubscribe" not in argv  # the hostfile's slots decide
    assert ["-x", "PYTHONPATH"] == argv[argv.index("PYTHONPATH") - 1:argv.index("PYTHONPATH") + 1]
    assert "OMP_NUM_THREADS" in argv and env["OMP_NUM_THREADS"] == "1"


def test_one_thread_per_rank_unless_set(fake_open_mpi):
    assert run.mpiexec_command(2, ["x"], mpiexec="m", env={})[1]["OMP_NUM_THREADS"] == "1"
    assert run.mpiexec_command(2, ["x"], mpiexec="m",
                               env={"OMP_NUM_THREADS": "2"})[1]["OMP_NUM_THREADS"] == "2"
    assert "OMP_NUM_THREADS" not in run.mpiexec_command(1, ["x"], mpiexec="m", env={})[1]


def test_bad_rank_count_is_refused(capsys):
    with pytest.raises(SystemExit):
        run.main(["-n", "0", "train.py"])
    assert "-n must be at least 1" in capsys.readouterr().err


def test_launches_a_script_on_two_ranks(tmp_path):
    require_mpi()
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\nimport ember.distributed as dist\ndist.init_process_group('mpi')\n"
        "print('rank', dist.get_rank(), 'of', dist.get_world_size(), sys.argv[1:], flush=True)\n"
        "dist.destroy_process_group()\n")
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    result = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", "2",
                             "--mpi-arg=--oversubscribe", str(script), "--lr", "0.1"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert lines == ["rank 0 of 2 ['--lr', '0.1']", "rank 1 of 2 ['--lr', '0.1']"]
