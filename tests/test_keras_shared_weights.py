"""A layer shared by a nested model and the outer model: its weights count once in
``weights``, ``trainable_weights``, ``get_weights``/``set_weights`` and ``count_params``, as in
real Keras 3."""
import numpy as np

import ember
from ember import keras as ek
from keras_layer_checks import keras_weights
from keras_reference import real_keras, to_numpy


def _models(lib):
    shared = lib.layers.Dense(3, name="shared")
    inner_in = lib.Input((4,), name="inner_in")
    inner = lib.Model(inner_in, shared(inner_in), name="inner")
    outer_in = lib.Input((4,), name="outer_in")
    merged = lib.layers.Add()([inner(outer_in), shared(outer_in)])
    return lib.Model(outer_in, lib.layers.Dense(2, name="head")(merged)), inner


def test_shared_layer_weights_count_once_as_in_keras():
    keras = real_keras()
    reference, reference_inner = _models(keras)
    model, inner = _models(ek)
    assert [tuple(w.shape) for w in reference.weights] == [(4, 3), (3,), (3, 2), (2,)]
    for ours, theirs in ((model, reference), (inner, reference_inner)):
        assert len(ours.weights) == len(theirs.weights)
        assert len(ours.trainable_weights) == len(theirs.trainable_weights)
        assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)
        assert ours.count_params() == theirs.count_params()
    weights = keras_weights(reference)
    model.set_weights(weights)
    got = model.get_weights()
    assert len(got) == len(weights)
    for g, w in zip(got, weights):
        np.testing.assert_array_equal(g, w)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    with ember.no_grad():
        np.testing.assert_allclose(model(x).numpy(), to_numpy(reference(x)), rtol=1e-5,
                                   atol=1e-6)


def test_weights_and_get_weights_agree_in_order():
    model, _ = _models(ek)
    arrays = model.get_weights()
    assert len(arrays) == len(model.weights)
    for w, array in zip(model.weights, arrays):  # (a Dense kernel is stored transposed)
        stored = w.detach().numpy()
        assert np.array_equal(stored, array) or np.array_equal(stored.T, array)
    model.set_weights(arrays)  # (the round trip fits)


def test_training_updates_the_shared_layer_once_per_step():
    model, _ = _models(ek)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    x = np.ones((4, 4), "float32")
    model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert len(model.trainable_weights) == 4
    assert all(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))
