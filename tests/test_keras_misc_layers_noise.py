"""GaussianNoise, GaussianDropout and AlphaDropout: Keras 3's formulas checked statistically
while training, identity at inference (as real Keras), seeds, noise_shape, float64 gradients
with the noise held fixed, training-mode behaviour inside fit, configs and errors."""
import math

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers as el
from keras_layer_checks import fresh_keras, rand as _rand, run  # noqa: F401
from keras_reference import real_keras, to_numpy
from ember.testing import gradcheck

ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
N = 200_000  # draws per statistical check: standard errors below 0.5% of the quantity


def _noise_layers():
    return [el.GaussianNoise(0.3), el.GaussianDropout(0.3), el.AlphaDropout(0.3)]


@pytest.mark.parametrize("index", range(3))
def test_inference_is_identity_like_real_keras(index):
    keras = real_keras()
    x = _rand(4, 5, seed=1)
    layer = _noise_layers()[index]
    np.testing.assert_array_equal(run(layer, x), x)
    np.testing.assert_array_equal(run(layer, x, training=False), x)
    reference = getattr(keras.layers, type(layer).__name__)(0.3)
    np.testing.assert_array_equal(to_numpy(reference(x)), x)
    assert not np.array_equal(run(layer, x, training=True), x)
    layer.train()  # Module training mode, as fit sets it, also switches the noise on
    with ember.no_grad():
        assert not np.array_equal(layer(ember.from_numpy(x)).numpy(), x)


def test_gaussian_noise_statistics():
    x = np.full((N,), 2.0, np.float32)
    noise = run(el.GaussianNoise(0.4), x, training=True) - x
    assert abs(noise.mean()) < 5 * 0.4 / math.sqrt(N)
    assert abs(noise.std() - 0.4) < 0.005
    assert abs(np.mean(np.abs(noise) < 0.4) - 0.6827) < 0.005  # Gaussian, not uniform


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_gaussian_dropout_statistics(rate):
    x = np.full((N,), 3.0, np.float32)
    factor = run(el.GaussianDropout(rate), x, training=True) / 3.0
    stddev = math.sqrt(rate / (1 - rate))
    assert abs(factor.mean() - 1.0) < 5 * stddev / math.sqrt(N)
    assert abs(factor.std() - stddev) < 0.01 * stddev


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_alpha_dropout_keeps_selu_statistics(rate):
    x = np.random.RandomState(2).randn(N).astype(np.float32)  # zero mean, unit variance
    out = run(el.AlphaDropout(rate), x, training=True)
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    kept = np.isclose(out, a * x + b, rtol=1e-5, atol=1e-6)
    dropped = np.isclose(out, a * ALPHA_P + b, rtol=1e-5, atol=1e-6)
    assert np.all(kept | dropped)
    assert abs(dropped.mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / N)
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1.0) < 0.02


def test_alpha_dropout_noise_shape_shares_draws():
    x = _rand(8, 6, 5, seed=3)
    out = run(el.AlphaDropout(0.5, noise_shape=(None, 1, 5)), x, training=True)
    rate = 0.5
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    dropped = np.isclose(out, a * ALPHA_P - a * ALPHA_P * rate, atol=1e-6)
    assert np.all(dropped == dropped[:, :1, :])  # one draw per (sample, feature)
    assert 0 < dropped.mean() < 1
    with pytest.raises(ValueError, match="not broadcastable"):
        run(el.AlphaDropout(0.5, noise_shape=(None, 2, 5)), x, training=True)
    with pytest.raises(ValueError, match="not broadcastable"):
        run(el.AlphaDropout(0.5, noise_shape=(None, 5)), x, training=True)


@pytest.mark.parametrize("make", [lambda s: el.GaussianNoise(0.5, seed=s),
                                  lambda s: el.GaussianDropout(0.5, seed=s),
                                  lambda s: el.AlphaDropout(0.5, seed=s)])
def test_seeds_repeat_draws_and_gradients_flow_to_the_input(make):
    x = _rand(3, 4, seed=4)
    first, second = make(7), make(7)
    np.testing.assert_array_equal(run(first, x, training=True), run(second, x, training=True))
    assert not np.array_equal(run(make(7), x, training=True), run(make(8), x, training=True))
    layer = make(7)
    assert not np.array_equal(run(layer, x, training=True), run(layer, x, training=True))

    def f(inp):  # a fresh layer with one seed: the same noise at every evaluation
        return make(11)(inp, training=True)

    xt = ember.from_numpy(x.astype(np.float64)).requires_grad_()
    assert f(xt).dtype == ember.float64
    assert gradcheck(f, (xt,), atol=1e-6, rtol=1e-4)


def test_without_a_seed_draws_follow_the_global_generator():
    x = _rand(3, 4, seed=5)
    ember.manual_seed(3)
    first = run(el.GaussianNoise(0.5), x, training=True)
    ember.manual_seed(3)
    np.testing.assert_array_equal(run(el.GaussianNoise(0.5), x, training=True), first)


@pytest.mark.parametrize("index", range(3))
def test_noise_acts_in_train_on_batch_and_not_in_evaluate(index):
    # Identity weights with a zero learning rate: the loss is the noise's own mean square.
    x = np.random.RandomState(6).randn(512, 4).astype(np.float32)
    model = ek.Sequential([el.Input((4,)), _noise_layers()[index], el.Dense(4)])
    model.layers[1].set_weights([np.eye(4, dtype=np.float32), np.zeros(4, np.float32)])
    model.compile(optimizer=ek.optimizers.SGD(learning_rate=0.0), loss="mse")
    assert model.evaluate(x, x, verbose=0) == 0.0
    assert model.train_on_batch(x, x) > 0.01
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_configs_round_trip_and_match_keras_keys():
    keras = real_keras()
    for ours, theirs in [(el.GaussianNoise(0.2, seed=3), keras.layers.GaussianNoise(0.2, 3)),
                         (el.GaussianDropout(0.4), keras.layers.GaussianDropout(0.4)),
                         (el.AlphaDropout(0.1, noise_shape=(None, 1), seed=2),
                          keras.layers.AlphaDropout(0.1, noise_shape=(None, 1), seed=2))]:
        config = ours.get_config()
        expected = theirs.get_config()
        assert set(config) == set(expected) - {"dtype"}
        assert {k: config[k] for k in config if k != "name"} == \
            {k: expected[k] for k in config if k != "name"}
        clone = type(ours).from_config(config)
        assert clone.get_config() == config
        assert ours.compute_output_shape((None, 3, 2)) == (None, 3, 2)


def test_noise_layers_pass_masks_to_the_lstm():
    model = ek.Sequential([el.Input((4,)), el.Embedding(5, 2, mask_zero=True),
                           el.GaussianNoise(0.1), el.GaussianDropout(0.1), el.AlphaDropout(0.1),
                           el.LSTM(2)])
    ids = np.array([[1, 2, 0, 0]])
    embedded = model.layers[0](ember.from_numpy(ids))
    masked = model.layers[4](embedded, mask=ids != 0)
    np.testing.assert_allclose(model.predict(ids, verbose=0), masked.detach().numpy(),
                               rtol=1e-6)


def test_bad_arguments():
    for cls, arg in [(el.GaussianNoise, "stddev"), (el.GaussianDropout, "rate"),
                     (el.AlphaDropout, "rate")]:
        for bad in (-0.1, 1.5, "0.5", None):
            with pytest.raises(ValueError, match=f"Invalid value received for argument `{arg}`"):
                cls(bad)
        with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
            cls(0.5, seed=1.5)
        with pytest.raises(TypeError, match="unrecognized keyword"):
            cls(0.5, noise=1)
    for bad in (3, (0, 1), (None, -2), ("a",)):
        with pytest.raises(ValueError, match="AlphaDropout: noise_shape"):
            el.AlphaDropout(0.5, noise_shape=bad)
    with pytest.raises(ValueError, match="infinite"):
        run(el.GaussianDropout(1.0), _rand(2, 2), training=True)
    assert el.GaussianDropout(0.0)(np.ones((2, 2)), training=True).numpy().tolist() == \
        [[1.0, 1.0], [1.0, 1.0]]
