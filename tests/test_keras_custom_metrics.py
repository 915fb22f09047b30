"""User-written metrics as Keras 3 writes them: state from ``add_variable``, ``reset_state``
overridden or inherited (zeros), values read through ``assign``/``assign_add``; compared with
the same class on real Keras, and reset between epochs inside fit."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy

Y_TRUE = np.array([0, 2, 1, 2, 0, 1], "float32")
Y_PRED = np.eye(3, dtype="float32")[[0, 2, 2, 2, 1, 1]] * 0.8 + 0.05


def _metric_classes(keras):
    ops = keras.ops

    class TruePositives(keras.metrics.Metric):
        """Counts correct argmax predictions; resets by hand, as keras-io's guide does."""

        def __init__(self, name="true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), name="count", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = ops.cast(ops.cast(ops.reshape(y_true, (-1,)), "int32")
                            == ops.cast(ops.argmax(y_pred, axis=1), "int32"), "float32")
            if sample_weight is not None:
                hits = ops.multiply(hits, ops.cast(sample_weight, "float32"))
            self.count.assign_add(ops.sum(hits))

        def result(self):
            return self.count

        def reset_state(self):
            self.count.assign(0.0)

    class MeanMargin(keras.metrics.Metric):
        """Two variables and the inherited reset_state (Keras: every variable to zeros)."""

        def __init__(self, name="mean_margin", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(2,), name="total", initializer="ones")
            self.seen = self.add_variable(shape=(), name="seen", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            top = ops.max(y_pred, axis=1)
            self.total.assign_add(ops.stack([ops.sum(top), ops.sum(1.0 - top)]))
            self.seen.assign_add(ops.cast(ops.shape(y_pred)[0], "float32"))

        def result(self):
            return (self.total[0] - self.total[1]) / self.seen

    return TruePositives, MeanMargin


def _results(keras):
    TruePositives, MeanMargin = _metric_classes(keras)
    out = []
    for metric in (TruePositives(), MeanMargin()):
        first = float(to_numpy(metric(Y_TRUE[:3], Y_PRED[:3])))  # (a view: read it now)
        metric.update_state(Y_TRUE[3:], Y_PRED[3:])
        both = float(to_numpy(metric.result()))
        metric.reset_state()
        variables = [to_numpy(v.numpy() if hasattr(v, "numpy") else v) for v in metric.variables]
        out.append((first, both, [v.tolist() for v in variables]))
    return out


def test_user_metrics_agree_with_the_same_classes_on_real_keras():
    keras = real_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # real Keras' __array__ warning
        want = _results(keras)
    got = _results(ek)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1][:2], want[1][:2], rtol=1e-6)
    assert got[1][2] == want[1][2] == [[0.0, 0.0], 0.0]


def test_a_user_metric_is_reset_each_epoch_in_fit():
    TruePositives, _ = _metric_classes(ek)
    x = np.random.RandomState(0).randn(40, 4).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = ek.Sequential([ek.Input((4,)), ek.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[TruePositives()])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    counts = history.history["true_positives"]
    assert all(0 <= c <= 40 for c in counts) and counts != [0.0, 0.0, 0.0]
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(
        float(np.sum(model.predict(x, verbose=0).argmax(1) == y)))


def test_add_variable_refuses_what_ember_cannot_hold():
    class Counter(ek.metrics.Metric):
        def __init__(self, dtype_of_count):
            super().__init__(name="counter")
            self.count = self.add_variable(shape=(), initializer="zeros", dtype=dtype_of_count)

    with pytest.raises(NotImplementedError, match="Counter.add_variable: only float32"):
        Counter("int32")
    assert Counter("float32").variables[0].shape == ()
