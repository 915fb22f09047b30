"""ember.viz without its extra and beside a user's matplotlib: importing ember (or ember.viz)
imports no matplotlib, the numbers need none, each plot without it names the extra, and a plot
neither changes the backend the user chose nor imports pyplot."""
import subprocess
import sys

import numpy as np
import pytest

import ember.nn as nn
from ember import viz
from viz_models import check_png, images, small_net


def test_without_matplotlib_each_plot_names_the_extra(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    model, x = small_net(), images()
    plots = {"plot_history": lambda path: viz.plot_history({"loss": [1.0, 0.5]}, path=path),
             "plot_filters": lambda path: viz.plot_filters(nn.Conv2d(1, 2, 3), path),
             "plot_feature_maps": lambda path: viz.plot_feature_maps(model, "conv1", x, path),
             "plot_saliency": lambda path: viz.plot_saliency(model, x, path=path),
             "plot_grad_cam": lambda path: viz.plot_grad_cam(model, "conv2", x, path=path),
             "plot_confusion_matrix": lambda path: viz.plot_confusion_matrix([0, 1], [1, 1],
                                                                             path=path),
             "plot_weight_histograms": lambda path: viz.plot_weight_histograms(model, path)}
    for name, plot in plots.items():
        with pytest.raises(ImportError, match=f'{name} needs matplotlib: pip install '
                                              r'"ember\[viz\]"'):
            plot(tmp_path / f"{name}.png")
    assert not list(tmp_path.iterdir())
    # the numbers need no matplotlib
    np.testing.assert_array_equal(viz.confusion_matrix([0, 1], [1, 1]), [[0, 1], [0, 1]])
    assert viz.grad_cam(model, "conv2", x).shape == (2, 6, 6)


def test_importing_ember_imports_no_matplotlib_and_plots_keep_the_users_backend(tmp_path):
    pytest.importorskip("matplotlib")
    code = ("import sys, ember\n"
            "assert 'ember.viz' not in sys.modules\n"
            "import ember.viz\n"
            "assert 'matplotlib' not in sys.modules, 'importing ember.viz imported matplotlib'\n"
            "import matplotlib\n"
            "matplotlib.use('svg')\n"
            "ember.viz.plot_history({'loss': [1.0, 0.5]}, path=sys.argv[1])\n"
            "assert matplotlib.rcParams['backend'] == 'svg', matplotlib.rcParams['backend']\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "h.png")], check=True,
                   timeout=120)
    check_png(tmp_path / "h.png", (400, 300))
