"""keras.layers.GroupNormalization and UnitNormalization: NumPy references of Keras' formulas,
real Keras 3 on the same weights, float64 gradients, config, errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers

from keras_reference import real_keras
from keras_layer_checks import fresh_keras  # noqa: F401 (an autouse fixture)
from keras_layer_checks import (assert_config_round_trip, assert_l2_regularizer_not_ignored,
                                assert_matches_real_keras, gradcheck_layer, rand, run,
                                weight_names)


def group_norm_ref(x, groups, axis, gamma, beta, epsilon):
    """Moves the channel axis last, splits it into (groups, channels // groups), normalizes each
    sample's group over everything else (biased variance), then gamma * x + beta."""
    x64 = np.moveaxis(x.astype(np.float64), axis, -1)
    shape = x64.shape
    grouped = x64.reshape(shape[0], -1, groups, shape[-1] // groups)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    out = ((grouped - mean) / np.sqrt(var + epsilon)).reshape(shape)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return np.moveaxis(out, -1, axis)


GROUP_CASES = [  # input shape, groups, axis
    ((2, 5, 6, 8), 4, -1), ((2, 5, 6, 8), 8, -1), ((2, 5, 6, 8), 1, 3), ((2, 6, 4, 5), 3, 1),
    ((3, 7, 6), 2, -1), ((3, 6), 3, -1), ((2, 4, 6, 3), -1, 2), ((2, 3, 4, 5), 2, -2),
]


@pytest.mark.parametrize("shape,groups,axis", GROUP_CASES)
def test_group_normalization_matches_numpy_and_real_keras(shape, groups, axis):
    x = rand(*shape, seed=1) * 3 + 1
    make = lambda L: L.GroupNormalization(groups, axis=axis, epsilon=1e-3)  # noqa: E731
    layer = make(layers)
    layer.gamma_initializer = ek.initializers.get("random_normal")
    layer.beta_initializer = ek.initializers.get("random_normal")
    out = run(layer, x)
    gamma, beta = layer.get_weights()
    assert gamma.shape == (shape[axis],) and not np.allclose(gamma, 1)
    np.testing.assert_allclose(out, group_norm_ref(x, layer.groups, axis, gamma, beta, 1e-3),
                               atol=2e-5)
    assert_matches_real_keras(layer, lambda keras: make(keras.layers), x)


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_group_normalization_without_center_or_scale(center, scale):
    x = rand(2, 4, 6, seed=2)
    layer = layers.GroupNormalization(2, center=center, scale=scale, epsilon=0.1)
    out = run(layer, x)
    assert [w.shape for w in layer.get_weights()] == [(6,)] * (center + scale)
    weights = dict(zip([n for n, on in (("gamma", scale), ("beta", center)) if on],
                       layer.get_weights()))
    np.testing.assert_allclose(out, group_norm_ref(x, 2, -1, weights.get("gamma"),
                                                   weights.get("beta"), 0.1), atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: keras.layers.GroupNormalization(
        2, center=center, scale=scale, epsilon=0.1), x)


@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (2, 3), [-1, 1]])
def test_unit_normalization_matches_numpy_and_real_keras(axis):
    x = rand(2, 3, 4, 5, seed=3)
    layer = layers.UnitNormalization(axis)
    axes = tuple([axis] if isinstance(axis, int) else axis)
    expected = x / np.sqrt((x.astype(np.float64) ** 2).sum(axis=axes, keepdims=True))
    out = run(layer, x)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(np.sqrt((out.astype(np.float64) ** 2).sum(axis=axes)), 1,
                               atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: keras.layers.UnitNormalization(axis), x)


def test_unit_normalization_of_zeros_is_zeros_like_keras():
    x = np.zeros((2, 3), np.float32)
    x[1] = [3, 0, 4]
    np.testing.assert_allclose(run(layers.UnitNormalization(), x), [[0, 0, 0], [0.6, 0, 0.8]],
                               atol=1e-7)
    assert_matches_real_keras(layers.UnitNormalization(),
                              lambda keras: keras.layers.UnitNormalization(), x)


@pytest.mark.parametrize("make,shape,names", [
    (lambda: layers.GroupNormalization(2, gamma_initializer="random_normal",
                                       beta_initializer="random_normal"),
     (2, 3, 4), ["gamma", "beta"]),
    (lambda: layers.GroupNormalization(3, axis=1, gamma_initializer="random_normal"),
     (2, 6, 2, 2), ["gamma", "beta"]),
    (lambda: layers.GroupNormalization(-1, center=False), (2, 3, 2), ["gamma"]),
    (lambda: layers.UnitNormalization([1, 2]), (2, 3, 2), []),
    (lambda: layers.UnitNormalization(), (3, 4), []),
])
def test_gradients(make, shape, names):
    layer = make()
    assert gradcheck_layer(layer, rand(*shape, seed=4) + 0.5)
    assert weight_names(layer) == names


def test_group_normalization_in_a_model_trains():
    (x, y), _ = ember.datasets.load_digits()
    x = (x.reshape(-1, 8, 8, 1) / 16).astype(np.float32)[:256]
    y = y[:256]
    model = ek.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(8, 3, padding="same"),
                           layers.GroupNormalization(4), layers.ReLU(),
                           layers.Flatten(),
                           layers.Dense(10, activation="softmax")])
    model.compile(optimizer=ek.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    losses = model.fit(x, y, epochs=10, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("make", [
    lambda: layers.GroupNormalization(2, axis=1, epsilon=0.01, center=False,
                                      gamma_initializer="random_uniform"),
    lambda: layers.GroupNormalization(-1), lambda: layers.UnitNormalization((1, 2))])
def test_config_round_trip_and_keys_equal_real_keras(make):
    layer = make()
    x = rand(2, 4, 3, 4)
    assert_config_round_trip(layer, x)
    keras = real_keras()
    config = layer.get_config()
    theirs = getattr(keras.layers, type(layer).__name__).from_config(config)
    theirs.build(x.shape)
    theirs = theirs.get_config()
    assert set(theirs) - set(config) <= {"dtype"}
    for key in set(theirs) - {"dtype", "name"} - {k for k in theirs if k.endswith("initializer")}:
        assert config[key] == theirs[key], key


def test_groups_minus_one_becomes_the_channel_count_when_built():
    layer = layers.GroupNormalization(-1)
    assert layer.get_config()["groups"] == -1
    layer(np.ones((1, 2, 5), np.float32))
    assert layer.groups == 5 and layer.get_config()["groups"] == 5


@pytest.mark.parametrize("make,error,message", [
    (lambda: layers.GroupNormalization(0), ValueError, "GroupNormalization: groups must be"),
    (lambda: layers.GroupNormalization(-2), ValueError, "GroupNormalization: groups must be"),
    (lambda: layers.GroupNormalization(2.0), ValueError, "GroupNormalization: groups must be"),
    (lambda: layers.GroupNormalization(2, axis=[1, 2]), ValueError, "axis must be an integer"),
    (lambda: layers.GroupNormalization(2, epsilon=-1), ValueError, "epsilon"),
    (lambda: layers.GroupNormalization(2, foo=1), TypeError, "unrecognized keyword"),
    (lambda: layers.UnitNormalization("x"), TypeError, "UnitNormalization: axis must be"),
    (lambda: layers.UnitNormalization([1, 1.5]), TypeError, "UnitNormalization: axis must be"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r'GroupNormalization "g".*channels \(6\).*groups \(4\)'):
        layers.GroupNormalization(4, name="g")(np.zeros((2, 6), np.float32))
    with pytest.raises(ValueError, match=r"channels \(2\).*groups \(4\)"):
        layers.GroupNormalization(4)(np.zeros((2, 3, 2), np.float32))
    with pytest.raises(ember.ShapeError, match=r"axis=0 is not a non-batch axis.*\(2, 4\)"):
        layers.GroupNormalization(2, axis=0)(np.zeros((2, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r"axis=3.*\(2, 4\)"):
        layers.GroupNormalization(2, axis=3)(np.zeros((2, 4), np.float32))
    built = layers.GroupNormalization(2, name="g2")
    built(np.zeros((2, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r'"g2" was built for 4 channels.*\(2, 6\)'):
        built(np.zeros((2, 6), np.float32))
    with pytest.raises(ember.ShapeError, match=r'UnitNormalization "u": axis 2.*\(2, 4\)'):
        layers.UnitNormalization(2, name="u")(np.zeros((2, 4), np.float32))
    assert_l2_regularizer_not_ignored(
        layers.GroupNormalization(2, beta_regularizer="l2", beta_initializer="ones"),
        rand(2, 4), 1)
