"""Keras activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) and the keras.activations
functions: NumPy references of Keras' formulas, real Keras 3 on the same weights, float64
gradients, config round trips, errors, and training a small model."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import activations as ea
from ember.keras import layers as el
from keras_layer_checks import fresh_keras, gradcheck_layer, rand as _rand, run  # noqa: F401
from keras_reference import real_keras, to_numpy
from ember.testing import gradcheck




def _away_from_kinks(x, kinks, gap=0.05):
    """Moves values within ``gap`` of a kink out of the way (finite differences need it)."""
    x = np.array(x, np.float64)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap) * 2
    return x


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


def _sparsemax_ref(x):
    """Sparsemax of each row by its definition: sort, find the support size k, shift by tau."""
    out = np.empty_like(x)
    for i, row in enumerate(x.reshape(-1, x.shape[-1])):
        z = np.sort(row)[::-1]
        cumulative = np.cumsum(z)
        k = max(j for j in range(1, len(z) + 1) if 1 + j * z[j - 1] > cumulative[j - 1])
        tau = (cumulative[k - 1] - 1) / k
        out.reshape(-1, x.shape[-1])[i] = np.maximum(row - tau, 0)
    return out


# name -> (NumPy reference, kinks to keep finite differences away from)
REFERENCES = {
    "relu6": (lambda x: np.clip(x, 0, 6), (0, 6)),
    "softsign": (lambda x: x / (1 + np.abs(x)), (0,)),
    "soft_shrink": (lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
                    (-0.5, 0.5)),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), (-0.5, 0.5)),
    "tanh_shrink": (lambda x: x - np.tanh(x), ()),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), (-1, 1)),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
                    (-1, 1)),
    "sparse_sigmoid": (lambda x: np.where(x <= -1, 0, np.where(x >= 1, 1, (x + 1) / 2)),
                       (-1, 1)),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2, ()),
    "celu": (lambda x: np.maximum(x, 0) + np.minimum(0, np.exp(x) - 1), (0,)),
    "glu": (lambda x: x[..., :2] * _sigmoid(x[..., 2:]), ()),
    "exponential": (np.exp, ()),
    "hard_sigmoid": (lambda x: np.clip(x + 3, 0, 6) / 6, (-3, 3)),
    "hard_silu": (lambda x: x * np.clip(x + 3, 0, 6) / 6, (-3, 3)),
    "hard_swish": (lambda x: x * np.clip(x + 3, 0, 6) / 6, (-3, 3)),
    "log_sigmoid": (lambda x: -_softplus(-x), ()),
    "mish": (lambda x: x * np.tanh(_softplus(x)), ()),
    "sparsemax": (_sparsemax_ref, ()),
    "relu": (lambda x: np.maximum(x, 0), (0,)),
    "leaky_relu": (lambda x: np.where(x >= 0, x, 0.2 * x), (0,)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1), (0,)),
    "selu": (lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                        * (np.exp(x) - 1)), (0,)),
    "silu": (lambda x: x * _sigmoid(x), ()),
}


def test_every_keras_activation_name_is_known():
    keras = real_keras()
    from keras.src.activations import ALL_OBJECTS_DICT
    missing = sorted(set(ALL_OBJECTS_DICT) - set(ea._BY_NAME))
    assert missing == []
    assert set(REFERENCES) <= set(ea._BY_NAME)
    assert keras.activations.get("hard_swish") is keras.activations.hard_silu
    assert ea.get("hard_swish") is ea.hard_silu


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_numpy_reference_and_gradient(name):
    ref, kinks = REFERENCES[name]
    x = _away_from_kinks(_rand(3, 4, seed=1) * 3, kinks)
    fn = ea.get(name)
    out32 = fn(ember.from_numpy(x.astype(np.float32)))
    assert out32.dtype == ember.float32
    np.testing.assert_allclose(out32.numpy(), ref(x), rtol=1e-5, atol=1e-6)
    xt = ember.from_numpy(x).requires_grad_()
    assert fn(xt).dtype == ember.float64
    assert gradcheck(fn, (xt,), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(set(REFERENCES) - {"sparsemax"}))
def test_activation_matches_real_keras(name):
    keras = real_keras()
    x = _rand(3, 4, seed=2) * 3
    expected = to_numpy(keras.activations.get(name)(x))
    np.testing.assert_allclose(ea.get(name)(ember.from_numpy(x)).numpy(), expected,
                               rtol=1e-5, atol=1e-5)


def test_threshold_and_parameterized_activations_match_real_keras():
    keras = real_keras()
    x = _rand(4, 6, seed=3) * 3
    t = ember.from_numpy(x)
    cases = [("threshold", (0.3, -2.0), {}), ("soft_shrink", (), {"threshold": 1.0}),
             ("hard_shrink", (), {"threshold": 0.2}), ("squareplus", (), {"b": 1}),
             ("celu", (), {"alpha": 0.5}), ("glu", (), {"axis": 0}),
             ("elu", (), {"alpha": 0.4}),
             ("leaky_relu", (), {"negative_slope": 0.1}), ("gelu", (), {"approximate": True})]
    for name, args, kwargs in cases:
        got = getattr(ea, name)(t, *args, **kwargs).numpy()
        expected = to_numpy(getattr(keras.activations, name)(x, *args, **kwargs))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=name)


def test_sparsemax_is_the_projection_onto_the_simplex_where_keras_is_not():
    keras = real_keras()
    x = np.array([[1.0, 0.9, 0.8, -2.0], [3.0, 0.0, 0.1, 0.2]], np.float32)
    got = ea.sparsemax(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, [[0.4333333, 1 / 3, 0.2333333, 0], [1, 0, 0, 0]], rtol=1e-5)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-6)
    # Keras 3.15 takes tau from the sum of all cumulative sums over the support (a bug): with a
    # support of three its first row is all zeros. ember keeps the paper's definition.
    keras_rows = to_numpy(keras.activations.sparsemax(x))
    np.testing.assert_array_equal(keras_rows[0], 0)
    np.testing.assert_allclose(got[1], keras_rows[1], rtol=1e-6)
    np.testing.assert_allclose(ea.sparsemax(ember.from_numpy(x.T), axis=0).numpy(), got.T,
                               rtol=1e-6)


RELU_CASES = [dict(), dict(max_value=6.0), dict(negative_slope=0.1),
              dict(threshold=0.5), dict(max_value=1.5, negative_slope=0.2, threshold=0.5),
              dict(max_value=1.0, negative_slope=0.5, threshold=2.0),
              dict(max_value=0.0), dict(negative_slope=0.3, threshold=1.0)]


@pytest.mark.parametrize("kwargs", RELU_CASES)
def test_relu_layer_matches_real_keras_including_the_threshold_itself(kwargs):
    keras = real_keras()
    x = np.concatenate([_rand(2, 7, seed=4) * 3,
                        np.array([[-1, 0, 0.5, 1, 1.5, 2, 6]] * 2, np.float32)])
    expected = to_numpy(keras.layers.ReLU(**kwargs)(x))
    np.testing.assert_allclose(run(el.ReLU(**kwargs), x), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ea.relu(ember.from_numpy(x), **kwargs).numpy(), expected,
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs", RELU_CASES)
def test_relu_layer_gradient(kwargs):
    kinks = [0, kwargs.get("threshold", 0.0)]
    if kwargs.get("max_value") is not None:
        kinks.append(kwargs["max_value"])
    assert gradcheck_layer(el.ReLU(**kwargs), _away_from_kinks(_rand(3, 5, seed=5) * 3, kinks))


def test_leaky_relu_defaults_config_and_keras_parity():
    keras = real_keras()
    layer = el.LeakyReLU()
    assert layer.negative_slope == 0.3
    x = _rand(3, 5, seed=6)
    np.testing.assert_allclose(run(layer, x), np.where(x >= 0, x, 0.3 * x), rtol=1e-6)
    for slope in (0.3, 0.0, 0.05):
        np.testing.assert_allclose(run(el.LeakyReLU(slope), x),
                                   to_numpy(keras.layers.LeakyReLU(slope)(x)), rtol=1e-6)
    config = el.LeakyReLU(0.05, name="lr").get_config()
    assert config == {"name": "lr", "trainable": True, "negative_slope": 0.05}
    assert el.LeakyReLU.from_config(config).negative_slope == 0.05
    with pytest.warns(UserWarning, match="alpha"):
        assert el.LeakyReLU(alpha=0.1).negative_slope == 0.1
    assert gradcheck_layer(el.LeakyReLU(0.2), _away_from_kinks(x, (0,)))
    for bad in (-0.1, None, "0.3", True):
        with pytest.raises(ValueError, match="negative_slope"):
            el.LeakyReLU(bad)
    with pytest.raises(TypeError, match="unrecognized keyword"):
        el.LeakyReLU(slope=0.1)


def test_elu_layer():
    keras = real_keras()
    x = _rand(2, 3, 4, seed=7)
    for alpha in (1.0, 0.5):
        got = run(el.ELU(alpha), x)
        np.testing.assert_allclose(got, np.where(x > 0, x, alpha * np.expm1(x)), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(got, to_numpy(keras.layers.ELU(alpha)(x)), rtol=1e-5,
                                   atol=1e-6)
    layer = el.ELU(0.5, name="e")
    assert layer.get_config() == {"name": "e", "trainable": True, "alpha": 0.5}
    assert el.ELU.from_config(layer.get_config()).alpha == 0.5
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)
    assert gradcheck_layer(el.ELU(0.7), _away_from_kinks(x, (0,)))
    with pytest.raises(ValueError, match="ELU: alpha"):
        el.ELU("1")


# ---- PReLU -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shared_axes,alpha_shape", [(None, (4, 5, 3)), ([1, 2], (1, 1, 3)),
                                                     (3, (4, 5, 1)), ((1,), (1, 5, 3))])
def test_prelu_alpha_layout_and_keras_parity(shared_axes, alpha_shape):
    keras = real_keras()
    x = _rand(2, 4, 5, 3, seed=8)
    layer = el.PReLU(shared_axes=shared_axes)
    run(layer, x)
    assert [w.shape for w in layer.get_weights()] == [alpha_shape]
    assert np.all(layer.get_weights()[0] == 0)  # "Zeros" by default, as in Keras
    alpha = _rand(*alpha_shape, seed=9)
    layer.set_weights([alpha])
    reference = keras.layers.PReLU(shared_axes=shared_axes)
    reference.build(x.shape)
    reference.set_weights([alpha])
    expected = to_numpy(reference(x))
    np.testing.assert_allclose(run(layer, x), np.where(x >= 0, x, alpha * x), rtol=1e-6)
    np.testing.assert_allclose(run(layer, x), expected, rtol=1e-6, atol=1e-6)
    assert gradcheck_layer(layer, _away_from_kinks(x, (0,)))


def test_prelu_config_initializer_and_errors():
    layer = el.PReLU(alpha_initializer="constant", shared_axes=[1], name="p")
    config = layer.get_config()
    assert config == {"name": "p", "trainable": True,
                      "alpha_initializer": {"class_name": "Constant", "config": {"value": 0.0}},
                      "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": [1]}
    clone = el.PReLU.from_config(config)
    assert clone.shared_axes == [1] and clone.alpha_initializer.get_config() == {"value": 0.0}
    layer = el.PReLU(alpha_initializer=ek.initializers.Constant(0.25))
    np.testing.assert_array_equal(run(layer, -np.ones((2, 3), np.float32)), -0.25)
    assert layer.count_params() == 3
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    with pytest.raises(ValueError, match="incompatible"):
        run(layer, np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="out of range"):
        run(el.PReLU(shared_axes=[2]), np.ones((2, 4), np.float32))
    for bad in (0, [1, -1], "1", [1.5]):
        with pytest.raises(ValueError, match="PReLU: shared_axes"):
            el.PReLU(shared_axes=bad)


def test_prelu_trains_in_a_sequential_model_and_saves(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 3).astype(np.float32)
    y = (np.abs(x).sum(axis=1, keepdims=True) - 1.5).astype(np.float32)
    model = ek.Sequential([el.Input((3,)), el.Dense(8), el.PReLU(), el.Dense(1)])
    model.compile(optimizer=ek.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert np.any(model.layers[1].get_weights()[0] != 0)  # alpha learned
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---- Softmax ---------------------------------------------------------------------------------
def _softmax_ref(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, [1, 2], [2], (0, 2)])
def test_softmax_axes_reference_keras_and_gradient(axis):
    keras = real_keras()
    x = _rand(2, 3, 4, seed=10) * 2
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    got = run(el.Softmax(axis=axis), x)
    np.testing.assert_allclose(got, _softmax_ref(x, axes), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got, to_numpy(keras.layers.Softmax(axis=axis)(x)), rtol=1e-5,
                               atol=1e-7)
    assert gradcheck_layer(el.Softmax(axis=axis), x)


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (2, 1, 4), (4,), (3, 1)])
def test_softmax_mask_matches_keras(mask_shape):
    keras = real_keras()
    x = _rand(2, 3, 4, seed=11)
    mask = np.random.RandomState(12).rand(*mask_shape) > 0.3
    got = run(el.Softmax(), x, mask=mask)
    np.testing.assert_allclose(got, to_numpy(keras.layers.Softmax()(x, mask=mask)), rtol=1e-5,
                               atol=1e-7)
    full = np.broadcast_to(mask, x.shape)
    assert np.all(got[~full] == 0)
    # float masks keep values above 0.5, as in Keras
    np.testing.assert_array_equal(run(el.Softmax(), x, mask=mask.astype(np.float32)), got)
    assert gradcheck_layer(el.Softmax(), x, mask=mask)


def test_softmax_config_and_errors():
    layer = el.Softmax(axis=[1, 2], name="s")
    assert layer.get_config() == {"name": "s", "trainable": True, "axis": [1, 2]}
    assert el.Softmax.from_config(layer.get_config()).axis == [1, 2]
    assert el.Softmax().compute_output_shape((None, 5)) == (None, 5)
    x = _rand(2, 3, seed=13)
    with pytest.raises(ValueError, match="broadcastable"):
        run(el.Softmax(), x, mask=np.ones((2,), bool))
    with pytest.raises(ValueError, match="broadcastable"):
        run(el.Softmax(), x, mask=np.ones((1, 2, 3), bool))
    with pytest.raises(ValueError, match="out of range"):
        run(el.Softmax(axis=2), x)
    for bad in ("1", [], [1.0], None):
        with pytest.raises(ValueError, match="Softmax: axis"):
            el.Softmax(axis=bad)


def test_activation_layers_pass_an_embedding_mask_to_the_lstm():
    keras = real_keras()
    ids = np.array([[3, 1, 2, 0, 0], [4, 4, 0, 0, 0]])
    layers_of = [lambda m: m.Embedding(6, 3, mask_zero=True), lambda m: m.LeakyReLU(),
                 lambda m: m.ELU(), lambda m: m.ReLU(max_value=1.0), lambda m: m.LSTM(2)]
    ours = ek.Sequential([el.Input((5,))] + [make(el) for make in layers_of])
    theirs = keras.Sequential([keras.Input((5,))] + [make(keras.layers) for make in layers_of])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(ids, verbose=0),
                               to_numpy(theirs(ids)), rtol=1e-5, atol=1e-6)
