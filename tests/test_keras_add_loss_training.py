"""Training on add_loss alone, as Keras allows: compile() without a loss, a recompile without a
loss keeping the earlier one, and a model without trainable weights (a warned no-op step).
Each evaluate() is compared with real Keras 3 on the same data."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

X = np.linspace(-1.0, 2.0, 12, dtype="float32").reshape(4, 3)
Y = np.zeros((4, 3), "float32")


def _mean_penalty(keras):
    class MeanPenalty(keras.layers.Layer):
        def call(self, inputs):
            self.add_loss(0.01 * keras.ops.mean(inputs))
            return inputs
    return MeanPenalty


def _penalized(keras, dense):
    inputs = keras.Input((3,))
    x = keras.layers.Dense(3, kernel_initializer="ones", name="d")(inputs) if dense else inputs
    return keras.Model(inputs, _mean_penalty(keras)()(x))


def _evaluations(keras):
    """evaluate() after compile without a loss, with mse, and recompiled without a loss."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real Keras' torch backend warns on __array__
        model = _penalized(keras, dense=True)
        model.compile(optimizer="sgd")
        alone = model.evaluate(X, Y, verbose=0)
        model.compile(optimizer="sgd", loss="mse")
        both = model.evaluate(X, Y, verbose=0)
        model.compile(optimizer="sgd")
        kept = model.evaluate(X, Y, verbose=0)
    return alone, both, kept


def test_add_loss_alone_is_the_loss_and_a_recompile_keeps_the_loss_as_in_keras():
    keras = real_keras()
    want = _evaluations(keras)
    got = _evaluations(ek)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got[2] == pytest.approx(got[1]) and got[0] != pytest.approx(got[1])


def test_fit_without_a_compiled_loss_minimizes_the_added_loss():
    model = _penalized(ek, dense=True)
    model.compile(optimizer=ek.optimizers.SGD(0.5))
    history = model.fit(X, Y, epochs=3, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert losses[0] == pytest.approx(0.01 * (X.sum(1, keepdims=True) * np.ones(3)).mean(),
                                      rel=1e-5)
    assert losses[2] < losses[1] < losses[0]


def test_a_model_without_trainable_weights_trains_as_a_warned_no_op():
    model = _penalized(ek, dense=False)
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    want = (X ** 2).mean() + 0.01 * X.mean()
    assert history.history["loss"] == pytest.approx([want, want], rel=1e-5)


def test_no_loss_at_all_is_refused():
    inputs = ek.Input((3,))
    model = ek.Model(inputs, ek.layers.Dense(2)(inputs))
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="No loss to compute. Provide a `loss` argument"):
        model.fit(X, np.zeros((4, 2), "float32"), verbose=0)


def _endpoint_model(keras):
    """keras-io's LogisticEndpoint: the targets are an input and the loss comes from add_loss."""
    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return keras.ops.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(4,), name="targets")
    logits = keras.layers.Dense(4, kernel_initializer="ones", name="logits")(inputs)
    return keras.Model(inputs=[inputs, targets],
                       outputs=LogisticEndpoint(name="predictions")(targets, logits))


def test_fit_and_evaluate_without_targets_train_on_the_added_loss_as_keras_does():
    keras = real_keras()
    rng = np.random.RandomState(2)
    data = {"inputs": rng.rand(6, 3).astype("float32"),
            "targets": rng.randint(0, 2, (6, 4)).astype("float32")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = _endpoint_model(keras)
        reference.compile(optimizer="adam")
        want = reference.evaluate(data, verbose=0)
    model = _endpoint_model(ek)
    model.compile(optimizer="adam")
    assert model.evaluate(data, verbose=0) == pytest.approx(want, rel=1e-5)
    losses = model.fit(data, epochs=4, batch_size=6, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.compile(optimizer="adam", loss="mse")  # a compiled loss needs targets
    with pytest.raises(ValueError, match="fit: argument `y` is required"):
        model.fit(data, verbose=0)
