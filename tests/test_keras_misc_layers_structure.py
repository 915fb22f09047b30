"""TimeDistributed, RepeatVector, Permute, Masking and Identity: NumPy references, real Keras 3
on the same weights (masks feeding LSTM/GRU on padded batches), float64 gradients, configs,
saving and errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers as el
from keras_layer_checks import fresh_keras, gradcheck_layer, rand as _rand, run  # noqa: F401
from keras_reference import real_keras, to_numpy


def _twin(keras, build):
    """(ember Sequential, real Keras Sequential with ember's weights) of ``build(layers)``."""
    ours = ek.Sequential(build(el))
    theirs = keras.Sequential(build(keras.layers))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


# ---- TimeDistributed -------------------------------------------------------------------------
def test_time_distributed_dense_weights_reference_and_keras():
    keras = real_keras()
    x = _rand(2, 4, 3, seed=1)
    layer = el.TimeDistributed(el.Dense(5, bias_initializer="random_normal"))
    out = run(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 5) and bias.shape == (5,)
    assert layer.weights == layer.layer.weights and layer.count_params() == 20
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-6)
    reference = keras.layers.TimeDistributed(keras.layers.Dense(5))
    reference.build(x.shape)
    reference.set_weights([kernel, bias])
    np.testing.assert_allclose(out, to_numpy(reference(x)), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 5)
    assert gradcheck_layer(layer, x)


def test_time_distributed_conv2d_matches_keras_and_has_gradients():
    keras = real_keras()
    x = _rand(2, 3, 5, 5, 2, seed=2)
    ours, theirs = _twin(keras, lambda m: [m.Input((3, 5, 5, 2)), m.TimeDistributed(
        m.Conv2D(4, 3, padding="same", activation="relu")), m.TimeDistributed(m.Flatten())])
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-5)
    assert ours.layers[0].compute_output_shape((None, 3, 5, 5, 2)) == (None, 3, 5, 5, 4)
    assert gradcheck_layer(el.TimeDistributed(el.Conv2D(2, 2)), x[:1, :2, :4, :4])


@pytest.mark.parametrize("base,kwargs,shape", [
    (el.Dense, {"units": 3, "bias_initializer": "random_normal"}, (3, 5, 4)),
    (el.Conv1D, {"filters": 2, "kernel_size": 2, "padding": "same", "activation": "tanh"},
     (3, 5, 4, 2))])
def test_time_distributed_one_call_for_per_sample_layers_equals_the_step_loop(base, kwargs,
                                                                             shape):
    # A subclass is not known to be per-sample, so it runs step by step (as Keras does).
    per_step = type("PerStep", (base,), {})
    x = _rand(*shape, seed=14)
    fast, slow = el.TimeDistributed(base(**kwargs)), el.TimeDistributed(per_step(**kwargs))
    run(fast, x)
    run(slow, x)
    slow.set_weights(fast.get_weights())
    np.testing.assert_allclose(run(fast, x), run(slow, x), rtol=1e-6, atol=1e-6)
    assert gradcheck_layer(slow, x[:2, :3])


def test_time_distributed_batch_norm_uses_each_steps_batch_while_training():
    keras = real_keras()
    x = _rand(4, 3, 2, seed=3) * np.array([1.0, 5.0, 20.0], np.float32)[:, None]
    layer = el.TimeDistributed(el.BatchNormalization())
    out = run(layer, x, training=True)
    mean, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    reference = keras.layers.TimeDistributed(keras.layers.BatchNormalization())
    np.testing.assert_allclose(out, to_numpy(reference(x, training=True)), rtol=1e-4, atol=1e-5)


def test_time_distributed_config_saving_and_errors(tmp_path):
    layer = el.TimeDistributed(el.Dense(3, name="inner"), name="td")
    config = layer.get_config()
    assert config["name"] == "td" and config["layer"]["class_name"] == "Dense"
    assert config["layer"]["config"]["units"] == 3
    clone = el.TimeDistributed.from_config(config)
    assert isinstance(clone.layer, el.Dense) and clone.layer.name == "inner"
    model = ek.Sequential([el.Input((4, 2)), el.TimeDistributed(el.Dense(3)), el.Flatten(),
                           el.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = _rand(16, 4, 2, seed=4), _rand(16, 1, seed=5)
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "td.ember")
    loaded = ek.models.load_model(tmp_path / "td.ember")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        el.TimeDistributed(ek.activations.relu)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        run(el.TimeDistributed(el.Dense(2)), _rand(2, 3))
    with pytest.raises(ValueError, match="incompatible with the input"):
        layer = el.TimeDistributed(el.Dense(2))
        run(layer, _rand(2, 3, 4), mask=np.ones((2, 4), bool))


def test_masking_through_time_distributed_feeds_the_lstm_as_in_keras():
    keras = real_keras()
    x = _rand(3, 5, 2, seed=6)
    x[0, 3:] = 0.0
    x[1, 1:] = 0.0
    ours, theirs = _twin(keras, lambda m: [m.Input((5, 2)), m.Masking(),
                                           m.TimeDistributed(m.Dense(3)), m.LSTM(4)])
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)


# ---- Masking ---------------------------------------------------------------------------------
@pytest.mark.parametrize("recurrent", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masking_feeds_recurrent_layers_exactly_as_keras(recurrent, return_sequences):
    keras = real_keras()
    x = _rand(4, 6, 3, seed=7)
    x[0, 4:] = -1.0  # padded at the end
    x[1, :2] = -1.0  # padded at the start
    x[2, 2] = -1.0   # a masked step in the middle
    ours, theirs = _twin(keras, lambda m: [
        m.Input((6, 3)), m.Masking(mask_value=-1.0),
        getattr(m, recurrent)(4, return_sequences=return_sequences), m.Dense(2)])
    got = ours.predict(x, verbose=0)
    np.testing.assert_allclose(got, to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)


def test_masking_feeds_a_bidirectional_lstm_as_keras():
    keras = real_keras()
    x = _rand(3, 5, 2, seed=13)
    x[0, 2:] = 0.0
    x[2, :3] = 0.0
    ours, theirs = _twin(keras, lambda m: [m.Input((5, 2)), m.Masking(),
                                           m.Bidirectional(m.LSTM(3, return_sequences=True)),
                                           m.Bidirectional(m.GRU(2))])
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)


def test_masking_output_mask_gradient_and_config():
    x = _rand(2, 4, 3, seed=8)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    x[1, 0, 1] = 0.0  # one zero feature alone does not mask the step
    layer = el.Masking()
    out = run(layer, x)
    keep = np.any(x != 0, axis=-1)
    np.testing.assert_array_equal(out, np.where(keep[..., None], x, 0))
    np.testing.assert_array_equal(layer.compute_mask(ember.from_numpy(x)).numpy(), keep)
    assert keep.tolist() == [[True, False, True, True], [True, True, True, False]]
    assert gradcheck_layer(el.Masking(mask_value=0.5), x)
    config = el.Masking(mask_value=-1.0, name="m").get_config()
    assert config == {"name": "m", "trainable": True, "mask_value": -1.0}
    assert el.Masking.from_config(config).mask_value == -1.0
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 3)
    for bad in ("0", None, True):
        with pytest.raises(ValueError, match="Masking: mask_value"):
            el.Masking(bad)
    with pytest.raises(ValueError, match="batch and a feature axis"):
        run(el.Masking(), np.zeros((3,), np.float32))


def test_masking_trains_an_lstm_on_padded_sequences():
    rng = np.random.RandomState(0)
    lengths = rng.randint(2, 7, size=64)
    x = rng.randn(64, 6, 1).astype(np.float32)
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    y = np.array([x[i, :n].sum() for i, n in enumerate(lengths)], np.float32)[:, None]
    model = ek.Sequential([el.Input((6, 1)), el.Masking(), el.LSTM(8), el.Dense(1)])
    model.compile(optimizer=ek.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]


# ---- RepeatVector, Permute, Identity -----------------------------------------------------------
def test_repeat_vector():
    keras = real_keras()
    x = _rand(2, 3, seed=9)
    out = run(el.RepeatVector(4), x)
    np.testing.assert_array_equal(out, np.repeat(x[:, None], 4, axis=1))
    np.testing.assert_array_equal(out, to_numpy(keras.layers.RepeatVector(4)(x)))
    assert el.RepeatVector(4).compute_output_shape((None, 3)) == (None, 4, 3)
    assert gradcheck_layer(el.RepeatVector(3), x)
    config = el.RepeatVector(4, name="r").get_config()
    assert config == {"name": "r", "trainable": True, "n": 4}
    assert el.RepeatVector.from_config(config).n == 4
    with pytest.raises(TypeError, match="integer value for `n`"):
        el.RepeatVector(2.0)
    with pytest.raises(ValueError, match="positive integer"):
        el.RepeatVector(0)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        run(el.RepeatVector(2), _rand(2, 3, 4))


@pytest.mark.parametrize("dims", [(2, 1), (1, 2), (3, 1, 2), (2, 3, 1)])
def test_permute(dims):
    keras = real_keras()
    x = _rand(2, *((3, 4) if len(dims) == 2 else (3, 4, 5)), seed=10)
    out = run(el.Permute(dims), x)
    np.testing.assert_array_equal(out, np.transpose(x, (0,) + dims))
    np.testing.assert_array_equal(out, to_numpy(keras.layers.Permute(dims)(x)))
    assert el.Permute(dims).compute_output_shape((None,) + x.shape[1:]) == \
        (None,) + out.shape[1:]
    assert gradcheck_layer(el.Permute(dims), x)


def test_permute_config_and_errors():
    config = el.Permute([2, 1], name="p").get_config()
    assert config == {"name": "p", "trainable": True, "dims": (2, 1)}
    assert el.Permute.from_config(config).dims == (2, 1)
    for bad in ((0, 1), (1, 3), (2, 2), "21", (1.0, 2.0)):
        with pytest.raises(ValueError, match="Invalid permutation argument"):
            el.Permute(bad)
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        run(el.Permute((2, 1)), _rand(2, 3, 4, 5))


def test_permute_then_lstm_in_a_sequential_model_matches_keras():
    keras = real_keras()
    x = _rand(3, 4, 6, seed=11)
    ours, theirs = _twin(keras, lambda m: [m.Input((4, 6)), m.Permute((2, 1)), m.LSTM(3),
                                           m.RepeatVector(2), m.Identity(), m.Flatten()])
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)


def test_identity_passes_values_and_masks():
    keras = real_keras()
    x = _rand(2, 3, seed=12)
    layer = el.Identity(name="i")
    np.testing.assert_array_equal(run(layer, x), x)
    assert layer.get_config() == {"name": "i", "trainable": True}
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    assert gradcheck_layer(el.Identity(), x)
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    ours, theirs = _twin(keras, lambda m: [m.Input((3,)), m.Embedding(4, 2, mask_zero=True),
                                           m.Identity(), m.GRU(2)])
    np.testing.assert_allclose(ours.predict(ids, verbose=0), to_numpy(theirs(ids)), rtol=1e-5,
                               atol=1e-6)
