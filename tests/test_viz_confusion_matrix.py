"""ember.viz.confusion_matrix: scikit-learn's numbers (labels, sample_weight, normalize, string
labels) and a hand-counted case; bad inputs are named; the plot is a PNG."""
import numpy as np
import pytest

import ember
from ember import viz
from viz_models import check_png, figure_pixels, need_plotting


def test_a_hand_counted_case():
    y_true = [0, 1, 2, 2, 1, 0, 2]
    y_pred = [0, 2, 2, 1, 1, 0, 2]
    expected = np.array([[2, 0, 0],
                         [0, 1, 1],
                         [0, 1, 2]])
    result = viz.confusion_matrix(y_true, y_pred)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(
        viz.confusion_matrix(ember.tensor(y_true), ember.tensor(y_pred)), expected)
    np.testing.assert_allclose(viz.confusion_matrix(y_true, y_pred, normalize="true"),
                               expected / expected.sum(axis=1, keepdims=True))
    # labels choose and order the classes; samples of other classes are not counted
    np.testing.assert_array_equal(viz.confusion_matrix(y_true, y_pred, labels=[2, 0]),
                                  [[2, 0], [0, 2]])


CASES = [dict(), dict(labels=[3, 1, 0]), dict(labels=[0, 1, 2, 3, 4, 9]),
         dict(normalize="true"), dict(normalize="pred"), dict(normalize="all"),
         dict(sample_weight="float"), dict(sample_weight="int", normalize="pred"),
         dict(labels=[4, 2], normalize="true")]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_agrees_with_scikit_learn(case):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 60), rng.integers(0, 5, 60)
    y_pred[:3] = 7  # a predicted class that never occurs
    kwargs = dict(case)
    if kwargs.get("sample_weight") == "float":
        kwargs["sample_weight"] = rng.random(60)
    elif kwargs.get("sample_weight") == "int":
        kwargs["sample_weight"] = rng.integers(0, 3, 60)
    expected = metrics.confusion_matrix(y_true, y_pred, **kwargs)
    result = viz.confusion_matrix(y_true, y_pred, **kwargs)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_agrees_with_scikit_learn_on_string_labels():
    metrics = pytest.importorskip("sklearn.metrics")
    y_true = ["cat", "dog", "bird", "cat", "dog", "dog"]
    y_pred = ["dog", "dog", "bird", "cat", "cat", "dog"]
    np.testing.assert_array_equal(viz.confusion_matrix(y_true, y_pred),
                                  metrics.confusion_matrix(y_true, y_pred))
    labels = ["dog", "cat"]
    np.testing.assert_array_equal(viz.confusion_matrix(y_true, y_pred, labels=labels),
                                  metrics.confusion_matrix(y_true, y_pred, labels=labels))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"y_true and y_pred have different lengths: 3 and 2"):
        viz.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must be 1-D.*\(3, 4\) \(for scores or "
                                         r"one-hot rows, pass their argmax"):
        viz.confusion_matrix([0, 1, 1], np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"normalize must be one of"):
        viz.confusion_matrix([0, 1], [0, 1], normalize="rows")
    with pytest.raises(ValueError, match=r"'labels' should contain at least one label"):
        viz.confusion_matrix([0, 1], [0, 1], labels=[])
    with pytest.raises(ValueError, match=r"At least one label specified must be in y_true"):
        viz.confusion_matrix([0, 1], [0, 1], labels=[5])
    with pytest.raises(ValueError, match=r"'labels' should be unique"):
        viz.confusion_matrix([0, 1], [0, 1], labels=[0, 1, 0])
    with pytest.raises(ValueError, match=r"sample_weight must hold one number per sample \(2\)"):
        viz.confusion_matrix([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(ValueError, match=r"mix string and number labels"):
        viz.confusion_matrix(["a", "b"], [0, 1])


def test_plot_confusion_matrix(tmp_path):
    need_plotting()
    y_true = np.arange(30) % 10
    y_pred = np.where(np.arange(30) % 7 == 0, 3, y_true)
    figure = viz.plot_confusion_matrix(y_true, y_pred, path=tmp_path / "c.png")
    assert len(figure.axes) == 2  # the matrix and its colour bar
    check_png(tmp_path / "c.png", figure_pixels(figure))
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == [str(i) for i in
                                                                        range(10)]
    figure = viz.plot_confusion_matrix(["b", "a", "a"], ["a", "a", "b"], labels=["a", "b"],
                                       normalize="true", path=tmp_path / "n.png")
    check_png(tmp_path / "n.png", figure_pixels(figure))
    assert [t.get_text() for t in figure.axes[0].texts] == ["0.50", "0.50", "1.00",
                                                                  "0.00"]
    with pytest.raises(ValueError, match="nothing to draw"):
        viz.plot_confusion_matrix([], [])
