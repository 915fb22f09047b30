"""fit / evaluate / train_on_batch with sample_weight and class_weight: the weighted losses,
the trained weights and the logs match real Keras 3 on the same data and initial weights."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

RNG = np.random.RandomState(4)
X = RNG.randn(40, 5).astype("float32")
LABELS = RNG.randint(0, 3, 40)
ONE_HOT = np.eye(3, dtype="float32")[LABELS]
WEIGHTS = RNG.rand(40).astype("float32") * 2
W0 = [RNG.randn(5, 3).astype("float32") * 0.4, np.zeros(3, "float32")]
CLASS_WEIGHT = {0: 1.0, 1: 3.0}  # class 2 omitted: weight 1


def _model(keras, loss):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights(W0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=["accuracy"])
    return model


def _run(keras, loss, y, **weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # real Keras' __array__ warning
        model = _model(keras, loss)
        history = model.fit(X, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                            validation_split=0.25, **weights).history
        sample_weight = weights.get("sample_weight")
        evaluated = model.evaluate(X, y, batch_size=16, verbose=0, sample_weight=sample_weight)
        batch = model.train_on_batch(X[:8], y[:8], **{
            k: (v[:8] if k == "sample_weight" else v) for k, v in weights.items()})
        return history, evaluated, batch, model.get_weights()


@pytest.mark.parametrize("loss,y", [("sparse_categorical_crossentropy", LABELS),
                                    ("categorical_crossentropy", ONE_HOT), ("mse", ONE_HOT)])
@pytest.mark.parametrize("which", ["sample_weight", "class_weight"])
def test_weighted_training_matches_real_keras(loss, y, which):
    keras = real_keras()
    weights = {"sample_weight": WEIGHTS} if which == "sample_weight" else {
        "class_weight": CLASS_WEIGHT}
    want = _run(keras, loss, y, **weights)
    got = _run(ek, loss, y, **weights)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(got[0][key], want[0][key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5)
    for a, b in zip(got[3], want[3]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    unweighted = _run(ek, loss, y)
    assert unweighted[0]["loss"][0] != pytest.approx(got[0]["loss"][0])


def test_a_sample_weight_weighs_every_output_of_a_multi_output_model():
    inputs = ek.Input((5,))
    model = ek.Model(inputs, {"a": ek.layers.Dense(1, name="a")(inputs),
                              "b": ek.layers.Dense(2, name="b")(inputs)})
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mse"})
    y = {"a": X[:, :1], "b": X[:, 1:3]}
    pred = model.predict(X, verbose=0)
    got = model.evaluate(X, y, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    per_a = ((pred["a"] - y["a"]) ** 2).mean(1) * WEIGHTS
    per_b = ((pred["b"] - y["b"]) ** 2).mean(1) * WEIGHTS
    assert got["loss"] == pytest.approx(per_a.mean() + per_b.mean(), rel=1e-5)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(X, y, class_weight={0: 1.0}, verbose=0)


def test_bad_weights_are_refused():
    model = _model(ek, "mse")
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        model.fit(X, ONE_HOT, sample_weight=WEIGHTS, class_weight=CLASS_WEIGHT, verbose=0)
    with pytest.raises(ValueError, match="x has 40 samples, sample_weight has shape \\(39,\\)"):
        model.fit(X, ONE_HOT, sample_weight=WEIGHTS[:39], verbose=0)
    with pytest.raises(ValueError, match="one `sample_weight` array per output"):
        model.evaluate(X, ONE_HOT, sample_weight=[WEIGHTS, WEIGHTS], verbose=0)
    # (one output: a list of one array is that array, as in Keras)
    assert model.evaluate(X, ONE_HOT, sample_weight=[WEIGHTS], verbose=0) == \
        model.evaluate(X, ONE_HOT, sample_weight=WEIGHTS, verbose=0)
