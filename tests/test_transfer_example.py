"""examples/transfer_digits.py and examples/cross_validation_digits.py run as a user runs them
(--quick) and print what they promise: transfer learning beats training from scratch on the
small set; cross-validation gives five fold scores."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args):
    result = subprocess.run([sys.executable, str(EXAMPLES / args[0]), *args[1:]],
                            cwd=EXAMPLES.parent, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def accuracies(output):
    """(transfer, scratch): mean test accuracies on digits 5-9 and the runs'."""
    found = []
    for label in (r"new head:", r"from scratch:"):
        match = re.search(label + r" +(\d\.\d+) \(runs: ([\d., ]+)\)", output)
        assert match, output
        runs = [float(v) for v in match.group(2).split(", ")]
        assert len(runs) == 3 and float(match.group(1)) == pytest.approx(sum(runs) / 3,
                                                                          abs=1e-3)
        found.append(float(match.group(1)))
    return found


def check_transfer_wins(output):
    assert re.search(r"Digits 5-9 from 69 training images, mean test accuracy of 3 runs",
                     output), output
    transfer, scratch = accuracies(output)
    assert transfer > scratch and transfer >= 0.9, output
    assert "Transfer learning wins by +" in output, output


def test_transfer_example_torch_face():
    output = run("transfer_digits.py", "--quick")
    base = re.search(r"Base network, digits 0-4: test accuracy (\d\.\d+)", output)
    assert base and float(base.group(1)) > 0.9, output
    trainable, total = re.search(r"Trainable parameters: ([\d,]+) of ([\d,]+)", output).groups()
    # the new head (512 * 64 + 64 + 64 * 5 + 5) of the whole network (+ the 4,800 conv weights)
    assert (trainable, total) == ("33,157", "37,957"), output
    check_transfer_wins(output)


def test_transfer_example_keras_face():
    output = run("transfer_digits.py", "--keras", "--quick")
    assert re.search(r"Trainable params: 33,157 \(", output), output
    assert re.search(r"Non-trainable params: 4,800 \(", output), output
    check_transfer_wins(output)


def test_transfer_example_from_a_pytorch_state_dict(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "base.pt"
    output = run("transfer_digits.py", "--from-torch-state-dict", str(path), "--quick")
    assert path.exists() and "Base network trained in PyTorch" in output, output
    assert re.search(r"Loaded 4 PyTorch tensors into ember; left to train: \['head.0.weight', "
                     r"'head.0.bias', 'head.2.weight', 'head.2.bias'\]", output), output
    difference = float(re.search(r"max \|difference\| (\S+)", output).group(1))
    assert difference < 1e-5, output
    check_transfer_wins(output)


def test_cross_validation_example_prints_five_scores():
    pytest.importorskip("sklearn")
    output = run("cross_validation_digits.py", "--quick")
    scores = re.search(r"Fold accuracies: (.*)", output).group(1).split(", ")
    assert len(scores) == 5 and all(float(s) > 0.8 for s in scores), output
    mean = float(re.search(r"Mean accuracy: (\d\.\d+) \(std (\d\.\d+)\)", output).group(1))
    assert mean == pytest.approx(sum(map(float, scores)) / 5, abs=1e-3)
