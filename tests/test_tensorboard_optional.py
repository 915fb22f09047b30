"""ember.utils.tensorboard without its extra: importing ember never imports tensorboardX, and
making a writer without it raises an ImportError naming the extra (runs where it is absent)."""
import os
import subprocess
import sys

import pytest

from ember.utils.tensorboard import SummaryWriter


def test_without_tensorboardx_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.setitem(sys.modules, "tensorboardX.summary", None)
    with pytest.raises(ImportError, match='pip install "ember\\[tensorboard\\]"'):
        SummaryWriter(tmp_path)
    assert not os.listdir(tmp_path)


def test_importing_ember_does_not_import_tensorboardx():
    code = ("import sys, ember, ember.utils.tensorboard\n"
            "assert 'tensorboardX' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
