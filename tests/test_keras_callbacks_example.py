"""examples/callbacks_keras.py runs as a user runs it: interrupted, resumed at the right epoch,
with its checkpoints, CSV log and TensorBoard files."""
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "callbacks_keras.py"


def test_the_callbacks_example_resumes_and_keeps_the_best_model(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "6", "--out",
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "First run: interrupted at epoch 4" in output
    assert "Resumed at epoch 4" in output
    assert re.findall(r"^Epoch (\d)/6", output, flags=re.MULTILINE) == list("123456")
    assert "log.csv: 6 epochs logged" in output
    checkpoints = sorted(p.name for p in tmp_path.glob("best-*.ember"))
    assert checkpoints and all(re.fullmatch(r"best-0\d-\d\.\d{3}\.ember", c)
                               for c in checkpoints)
    assert sorted(p.name for p in (tmp_path / "tensorboard").iterdir()) == ["train",
                                                                           "validation"]
    assert not (tmp_path / "backup").exists()  # deleted once training completed
    accuracy = float(re.search(r"^Test accuracy: (\d\.\d+)$", output, flags=re.MULTILINE)[1])
    assert accuracy > 0.85
