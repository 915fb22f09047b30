"""Shared checks for Keras-face layer tests: run a layer on NumPy data, a float64
finite-difference check of a layer's output with respect to its input and every trainable
weight (the layer's own and its sublayers'), real-Keras parity on the same weights, config
round trips, and regularizers never dropped."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.testing import gradcheck

from keras_reference import real_keras, to_numpy


@pytest.fixture(autouse=True)
def fresh_keras():
    """Import into a test module: each test starts with fresh layer names and seed 0."""
    keras.utils.clear_session()
    ember.manual_seed(0)


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def run(layer, x, training=False, **kwargs):
    """The layer's output on ``x`` (no gradients) as a NumPy array."""
    layer.train(training)
    with ember.no_grad():
        return layer(ember.from_numpy(np.ascontiguousarray(x)), **kwargs).numpy()


def gradcheck_layer(layer, x, **kwargs):
    """d(layer(x)) w.r.t. x and all trainable weights, in float64 (the layer is built first)."""
    x = np.asarray(x, np.float64)
    if not layer.built:
        run(layer, x.astype(np.float32))
    layer.double()
    owners = [layer] + layer._all_sublayers()
    slots = [(owner, name) for owner in owners for name, p in owner._parameters.items()
             if p is not None and p.requires_grad]

    def f(inp, *params):
        saved = [owner._parameters[name] for owner, name in slots]
        for (owner, name), p in zip(slots, params):
            owner._parameters[name] = p
        try:
            return layer(inp, **kwargs)
        finally:
            for (owner, name), p in zip(slots, saved):
                owner._parameters[name] = p

    params = [owner._parameters[name].detach().requires_grad_() for owner, name in slots]
    xt = ember.from_numpy(x).requires_grad_()
    return gradcheck(f, (xt, *params), atol=1e-6, rtol=1e-4)


def weight_names(layer):
    """The attribute names of the layer's own weights, in Keras' order."""
    return [name for name, _ in layer._own_weights()]


def keras_weights(layer):
    """A real-Keras layer's weights as NumPy arrays (its get_weights goes through
    Variable.__array__, which NumPy 2 warns about)."""
    return [to_numpy(v.value) for v in layer.weights]


def assert_matches_real_keras(layer, make_keras_layer, x, atol=1e-5):
    """Runs ember's ``layer`` on x, copies its weights into the real Keras layer that
    ``make_keras_layer(keras)`` gives, and compares outputs, weight shapes and
    compute_output_shape; then loads random real-Keras weights into ember and compares again."""
    keras_ = real_keras()
    ours = run(layer, x)
    theirs_layer = make_keras_layer(keras_)
    theirs_layer.build(x.shape)
    assert [w.shape for w in keras_weights(theirs_layer)] == \
        [w.shape for w in layer.get_weights()]
    theirs_layer.set_weights(layer.get_weights())
    theirs = to_numpy(theirs_layer(x))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=1e-5)
    assert tuple(layer.compute_output_shape((None,) + x.shape[1:])) == \
        tuple(theirs_layer.compute_output_shape((None,) + x.shape[1:]))
    if keras_weights(theirs_layer):  # random Keras weights (biases too) into ember
        rng = np.random.RandomState(1)
        theirs_layer.set_weights([rng.randn(*w.shape).astype(np.float32)
                                  for w in keras_weights(theirs_layer)])
        layer.set_weights(keras_weights(theirs_layer))
        np.testing.assert_allclose(run(layer, x), to_numpy(theirs_layer(x)), atol=atol,
                                   rtol=1e-5)
    return ours


def assert_config_round_trip(layer, x):
    """from_config(get_config()) gives a layer with the same config that, given the same
    weights, computes the same output."""
    out = run(layer, x)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(ember.from_numpy(np.ascontiguousarray(x)))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(run(clone, x), out)


def assert_l2_regularizer_not_ignored(layer, x, weight_index):
    """A layer given an "l2" regularizer either refuses it (NotImplementedError naming
    regularizers) or, once built, reports Keras' penalty 0.01 * sum(w ** 2) of that weight in
    ``layer.losses``: never silently drops it."""
    try:
        layer(ember.from_numpy(np.ascontiguousarray(x)))
    except NotImplementedError as e:
        assert "regularizer" in str(e)
        return
    weight = layer.get_weights()[weight_index].astype(np.float64)
    penalties = [float(loss.detach().numpy()) for loss in layer.losses]
    np.testing.assert_allclose(penalties, [0.01 * (weight ** 2).sum()], rtol=1e-5)
