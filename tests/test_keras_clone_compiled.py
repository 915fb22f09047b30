"""keras.models.clone_model of a compiled model returns a compiled clone, as in Keras 3: a new
optimizer of the same configuration and loss and metrics of its own, so it trains at once
without touching the original's state."""
import numpy as np
import pytest

from ember import keras as ek
from keras_reference import keras_numpy2_warnings_ignored, real_keras, to_numpy


def build(k, functional):
    if functional:
        inputs = k.Input((4,))
        return k.Model(inputs, k.layers.Dense(2, activation="softmax")(
            k.layers.Dense(3, activation="relu")(inputs)))
    return k.Sequential([k.Input((4,)), k.layers.Dense(3, activation="relu"),
                         k.layers.Dense(2, activation="softmax")])


def value(variable):
    """A number from ember's optimizer attribute or real Keras' variable."""
    return float(to_numpy(getattr(variable, "value", variable)))


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 4)).astype(np.float32), rng.integers(0, 2, 12)


@pytest.mark.parametrize("functional", [False, True])
def test_clone_of_a_compiled_model_is_compiled_as_in_keras(functional):
    keras = real_keras()
    x, y = data()
    for k in (ek, keras):
        model = build(k, functional)
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.02),
                      loss="sparse_categorical_crossentropy",
                      metrics=[k.metrics.SparseCategoricalAccuracy(name="acc")])
        model.fit(x, y, epochs=1, verbose=0)
        iterations = value(model.optimizer.iterations)
        with keras_numpy2_warnings_ignored():
            clone = k.models.clone_model(model)
        assert clone.compiled and clone.optimizer is not model.optimizer
        assert type(clone.optimizer) is type(model.optimizer)
        assert value(clone.optimizer.learning_rate) == pytest.approx(0.02)
        assert value(clone.optimizer.iterations) == 0
        logs = clone.fit(x, y, epochs=1, verbose=0).history
        assert sorted(logs) == ["acc", "loss"]
        assert value(model.optimizer.iterations) == iterations  # the original is untouched
        assert not k.models.clone_model(build(k, functional)).compiled


def test_clone_gets_fresh_metric_objects_and_the_same_loss():
    x, y = data()
    metric = ek.metrics.SparseCategoricalAccuracy(name="acc")
    model = build(ek, False)
    model.compile(optimizer="sgd", loss=ek.losses.SparseCategoricalCrossentropy(),
                  metrics=[metric])
    model.evaluate(x, y, verbose=0)
    clone = ek.models.clone_model(model)
    assert clone._compile_arguments["metrics"][0] is not metric
    assert float(clone._compile_arguments["metrics"][0].result()) == 0.0
    assert type(clone.loss) is ek.losses.SparseCategoricalCrossentropy
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
