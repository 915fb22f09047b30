"""examples/distributed_digits.py trains the digits CNN through the launcher on two ranks
(skipped without mpi4py/mpiexec)."""
import os
import re
import subprocess
import sys

from distributed_launch import PYTHON_DIR, REPO, require_mpi

EXAMPLE = os.path.join(REPO, "examples", "distributed_digits.py")


def test_distributed_digits_on_two_ranks():
    require_mpi()
    result = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", "2",
                             "--mpi-arg=--oversubscribe", EXAMPLE, "--epochs", "10"],
                            env=dict(os.environ, PYTHONPATH=PYTHON_DIR), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    losses = [float(v) for v in re.findall(r"train loss (\d+\.\d+)", result.stdout)]
    assert len(losses) == 2 and losses[1] < losses[0], result.stdout  # printed by rank 0 only
    assert "2 rank(s):" in result.stdout
    accuracy = re.search(r"^Test accuracy: (\d\.\d+)$", result.stdout, flags=re.MULTILINE)
    assert accuracy and float(accuracy.group(1)) >= 0.95, result.stdout
