"""examples/visualize_digits.py --quick runs as a user runs it: the CNN learns, and the seven
pictures it promises are PNGs with something on them."""
import re

import pytest

from test_examples import _run_example_with
from viz_models import check_png

PICTURES = ["confusion_matrix.png", "feature_maps.png", "filters.png", "grad_cam.png",
            "history.png", "saliency.png", "weight_histograms.png"]


def test_visualize_digits_quick_writes_every_picture(tmp_path):
    pytest.importorskip("matplotlib")
    output = _run_example_with("visualize_digits.py", "--quick", "--out", str(tmp_path))
    losses = [float(v) for v in re.findall(r"  loss (\d+\.\d+)", output)]
    assert len(losses) == 3 and losses[-1] < losses[0], output
    match = re.search(r"^Test accuracy: (\d\.\d+)$", output, flags=re.MULTILINE)
    assert match and float(match.group(1)) >= 0.8, output
    assert sorted(p.name for p in tmp_path.iterdir()) == PICTURES
    for name in PICTURES:
        check_png(tmp_path / name)
