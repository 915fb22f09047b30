"""keras.models.clone_model's call_function and cache, and keras.utils.set_random_seed,
against real Keras 3."""
import random

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy


def _functional(k):
    inputs = k.Input((4,))
    shared = k.layers.Dense(3, name="shared")
    left = shared(inputs)
    right = shared(k.layers.Dense(4, name="pre")(inputs))
    return k.Model(inputs, k.layers.Add(name="add")([left, right]), name="net")


def _relu_after_dense(k):
    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        return k.layers.Activation("relu")(out) if isinstance(layer, k.layers.Dense) else out
    return call_function


def test_call_function_rewires_the_graph_as_in_keras():
    keras = real_keras()
    ours_model, their_model = _functional(ek), _functional(keras)
    ours = ek.models.clone_model(ours_model, call_function=_relu_after_dense(ek))
    theirs = keras.models.clone_model(their_model, call_function=_relu_after_dense(keras))
    assert len(ours.layers) == len(theirs.layers) == len(ours_model.layers) + 3
    ours.set_weights(ours_model.get_weights())
    theirs.set_weights(ours_model.get_weights())  # ember's weights, in Keras' order
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)
    # Without call_function's ReLUs the clone computes something else: the check can fail.
    plain = ek.models.clone_model(ours_model)
    plain.set_weights(ours_model.get_weights())
    assert not np.allclose(plain.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_cache_reuses_clones_across_calls():
    model = _functional(ek)
    cache = {}
    first = ek.models.clone_model(model, cache=cache)
    second = ek.models.clone_model(model, cache=cache)
    assert first.get_layer("shared") is second.get_layer("shared")
    assert first.get_layer("shared") is not model.get_layer("shared")
    assert id(model.get_layer("pre")) in cache


def test_call_function_errors():
    model = _functional(ek)
    with pytest.raises(ValueError, match="call_function must be callable"):
        ek.models.clone_model(model, call_function=3)
    sequential = ek.Sequential([ek.Input((2,)), ek.layers.Dense(1)])
    with pytest.raises(ValueError, match="Sequential"):
        ek.models.clone_model(sequential, call_function=lambda layer, *a, **k: layer(*a, **k))


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_set_random_seed_seeds_python_and_numpy_as_keras_does(seed):
    keras = real_keras()
    keras.utils.set_random_seed(seed)
    theirs = (random.random(), np.random.rand(3).tolist())
    ek.utils.set_random_seed(seed)
    assert (random.random(), np.random.rand(3).tolist()) == theirs


def test_set_random_seed_refuses_what_keras_refuses():
    for seed in (1.5, "3", None):
        with pytest.raises(ValueError, match="integer"):
            ek.utils.set_random_seed(seed)
    for seed in (-1, 2**32):
        with pytest.raises(ValueError, match="2\\*\\*32"):
            ek.utils.set_random_seed(seed)
