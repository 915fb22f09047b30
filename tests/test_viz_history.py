"""ember.viz.plot_history: curves from a Keras History, a dict of lists or a list of per-epoch
logs, one panel per metric with its val_ twin; the PNG has the size of its panels."""
import math

import numpy as np
import pytest

from ember import viz
from ember.viz.history import history_logs
from viz_models import check_png, need_plotting

LOGS = [{"loss": 1.0, "acc": 0.5},
        {"loss": 0.8, "acc": 0.6, "val_loss": 0.9},
        {"loss": 0.6, "acc": 0.7, "val_loss": 0.7}]


def test_a_list_of_logs_merges_by_key_with_nan_where_missing():
    epochs, logs = history_logs(LOGS)
    np.testing.assert_array_equal(epochs, [1, 2, 3])
    assert list(logs) == ["loss", "acc", "val_loss"]
    np.testing.assert_array_equal(logs["acc"], [0.5, 0.6, 0.7])
    assert math.isnan(logs["val_loss"][0]) and list(logs["val_loss"][1:]) == [0.9, 0.7]


def test_a_history_object_keeps_its_epoch_numbers():
    class ResumedHistory:  # what fit(initial_epoch=5) returns, Keras' attributes
        history = {"loss": [0.5, 0.4, 0.3]}
        epoch = [5, 6, 7]

    epochs, logs = history_logs(ResumedHistory())
    np.testing.assert_array_equal(epochs, [6, 7, 8])
    np.testing.assert_array_equal(logs["loss"], [0.5, 0.4, 0.3])


def test_keras_fit_history_one_panel_per_metric_with_its_validation_twin(tmp_path):
    need_plotting()
    from ember import keras as ek
    ek.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    model = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    figure = viz.plot_history(history, path=tmp_path / "h.png")
    panels = {axes.get_title(): axes for axes in figure.axes}
    assert set(panels) == {k for k in history.history if not k.startswith("val_")}
    assert {"loss", "accuracy"} <= set(panels)
    train, validation = panels["loss"].lines
    np.testing.assert_allclose(train.get_ydata(), history.history["loss"])
    np.testing.assert_allclose(validation.get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    check_png(tmp_path / "h.png", (400 * len(panels), 300))


def test_panels_and_sizes_follow_the_metrics(tmp_path):
    need_plotting()
    figure = viz.plot_history(LOGS, path=tmp_path / "all.png")
    assert [a.get_title() for a in figure.axes] == ["loss", "acc"]
    assert [len(a.lines) for a in figure.axes] == [2, 1]
    check_png(tmp_path / "all.png", (800, 300))
    figure = viz.plot_history(LOGS, metrics="loss", path=tmp_path / "loss.png")
    assert len(figure.axes) == 1
    check_png(tmp_path / "loss.png", (400, 300))
    figure = viz.plot_history(LOGS, metrics=["val_loss"])
    assert [line.get_label() for line in figure.axes[0].lines] == ["validation"]
    four = {name: [1.0, 0.5] for name in ("loss", "a", "b", "c", "val_c")}
    figure = viz.plot_history(four, path=tmp_path / "four.png")
    assert len(figure.axes) == 4
    check_png(tmp_path / "four.png", (1200, 600))  # two rows of three panels


def test_bad_histories_are_named():
    with pytest.raises(ValueError, match=r"no logs for metrics \['f1'\]. The history has: "
                                         r"loss, acc, val_loss"):
        viz.plot_history(LOGS, metrics=["f1"])
    with pytest.raises(ValueError, match="holds no epochs"):
        viz.plot_history([])
    with pytest.raises(ValueError, match=r"the logs of 'loss' must be numbers"):
        viz.plot_history({"loss": ["low"]})
    with pytest.raises(TypeError, match="expected a Keras History"):
        viz.plot_history(3)
    with pytest.raises(TypeError, match="one dict per epoch"):
        viz.plot_history([{"loss": 1.0}, 0.5])
