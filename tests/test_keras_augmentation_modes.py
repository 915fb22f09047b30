"""When the augmentation layers augment, as in real Keras 3.15: their call defaults to
training=True, so a plain ``layer(x)``, ``model(x)`` and fit augment, while
``training=False``, predict and evaluate do not (nor do the probe calls that build models)."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

MAKERS = {
    "RandomFlip": lambda L: L.RandomFlip(),
    "RandomRotation": lambda L: L.RandomRotation(0.3),
    "RandomZoom": lambda L: L.RandomZoom(0.5),
    "RandomTranslation": lambda L: L.RandomTranslation(0.3, 0.3),
    "RandomContrast": lambda L: L.RandomContrast(0.5),
    "RandomBrightness": lambda L: L.RandomBrightness(0.5),
}
# 16 images: a RandomFlip leaves them all unflipped with probability 2**-16
X = np.random.default_rng(0).uniform(size=(16, 6, 6, 2)).astype("float32")


def _array(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    return np.asarray(value)


def _changed(value) -> bool:
    return not np.allclose(_array(value), X)


def _recorder(lib, seen):
    class Record(lib.layers.Layer):
        def call(self, inputs):
            if tuple(inputs.shape) == X.shape:  # (not the calls that build the model)
                seen.append(_changed(inputs))
            return inputs
    return Record()


def _modes(lib, make):
    """Which calls augment: {mode: bool}."""
    L = lib.layers
    layer = make(L)
    modes = {"layer(x)": _changed(layer(X)),
             "layer(x, training=False)": _changed(layer(X, training=False)),
             "layer(x, training=True)": _changed(layer(X, training=True))}
    inputs = lib.Input((6, 6, 2))
    functional = lib.Model(inputs, make(L)(inputs))
    sequential = lib.Sequential([lib.Input((6, 6, 2)), make(L)])
    for name, model in (("functional", functional), ("sequential", sequential)):
        modes[f"{name}(x)"] = _changed(model(X))
        modes[f"{name}(x, training=False)"] = _changed(model(X, training=False))
        modes[f"{name}(x, training=True)"] = _changed(model(X, training=True))
        modes[f"{name}.predict"] = _changed(model.predict(X, verbose=0))
        modes[f"{name}.predict_on_batch"] = _changed(model.predict_on_batch(X))
    # fit and evaluate: what the layer after the augmentation sees
    seen = []
    model = lib.Sequential([lib.Input((6, 6, 2)), make(L), _recorder(lib, seen),
                            L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((16, 1), "float32")
    seen.clear()
    model.fit(X, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    modes["fit"] = bool(seen) and all(seen)  # (real Keras calls the model twice here)
    seen.clear()
    model.evaluate(X, y, batch_size=16, verbose=0)
    assert seen
    modes["evaluate"] = any(seen)
    return modes


@pytest.mark.parametrize("name", MAKERS)
def test_augments_in_the_same_calls_as_real_keras(name):
    keras = real_keras()
    with warnings.catch_warnings():  # (real Keras' own deprecation warnings under NumPy 2)
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = _modes(keras, MAKERS[name])
    got = _modes(ek, MAKERS[name])
    assert got == expected
    # (what real Keras 3.15 does, spelled out)
    assert expected["layer(x)"] and expected["functional(x)"] and expected["fit"]
    assert not (expected["functional.predict"] or expected["evaluate"]
                or expected["functional(x, training=False)"])


def _training_values(lib):
    modes = []

    class Noisy(lib.layers.Layer):
        def call(self, inputs, training=True):
            modes.append(training)
            return inputs

    model = lib.Sequential([lib.Input((3,)), Noisy()])
    modes.clear()
    model(np.ones((2, 3), "float32"))
    model.predict(np.ones((2, 3), "float32"), verbose=0)
    model(np.ones((2, 3), "float32"), training=False)
    return modes


def test_a_user_layer_defaulting_to_training_true_runs_as_inference_in_predict():
    keras = real_keras()
    with warnings.catch_warnings():  # (real Keras' own deprecation warnings under NumPy 2)
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = _training_values(keras)
    assert _training_values(ek) == expected == [True, False, False]
