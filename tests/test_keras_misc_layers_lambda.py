"""keras.layers.Lambda: calls, arguments, masks, training, output shapes, gradients, real-Keras
parity, and saving as Keras does it (a lambda's bytecode loads only with safe_mode=False)."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers as el
from ember.keras.safe_mode import SafeModeScope, enable_unsafe_deserialization, in_safe_mode
from keras_layer_checks import fresh_keras, gradcheck_layer, rand as _rand, run  # noqa: F401
from keras_reference import real_keras, to_numpy




def test_lambda_calls_the_function_with_arguments_and_infers_the_shape():
    x = _rand(2, 3, 4)
    layer = el.Lambda(lambda t, scale, shift=0.0: t * scale + shift,
                      arguments={"scale": 2.0, "shift": 1.0})
    np.testing.assert_allclose(run(layer, x), x * 2 + 1, rtol=1e-6)
    flat = el.Lambda(lambda t: t.reshape(t.shape[0], -1))
    assert flat.compute_output_shape((None, 3, 4)) == (None, 12)
    assert el.Lambda(lambda t: t, output_shape=(5, 6)).compute_output_shape((7, 3)) == (7, 5, 6)
    assert el.Lambda(lambda t: t, output_shape=lambda s: s[:1] + (9,)).compute_output_shape(
        (None, 3)) == (None, 9)


def test_lambda_training_argument_follows_the_mode():
    layer = el.Lambda(lambda t, training=None: t + (1.0 if training else 0.0))
    x = np.zeros((1, 2), np.float32)
    assert run(layer, x).sum() == 0
    assert run(layer, x, training=True).sum() == 2
    layer.eval()
    assert layer(ember.from_numpy(x), training=True).numpy().sum() == 2
    model = ek.Sequential([el.Input((2,)), layer, el.Dense(2)])
    model.layers[1].set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    model.compile(loss="mse", optimizer=ek.optimizers.SGD(learning_rate=0.0))
    assert model.predict(x, verbose=0).sum() == 0
    assert model.evaluate(x, x, verbose=0) == 0.0
    assert model.train_on_batch(x, x) == 1.0  # fit's training mode reaches the function


def test_lambda_gradient():
    assert gradcheck_layer(el.Lambda(lambda t: ember.tanh(t) * t.sum(dim=1, keepdim=True)),
                           _rand(3, 4, seed=1))


def test_lambda_between_dense_layers_matches_real_keras_and_trains():
    keras = real_keras()
    fn = lambda t: t * t + 1.0  # noqa: E731  (works on ember and torch tensors alike)
    ours = ek.Sequential([el.Input((3,)), el.Dense(4), el.Lambda(fn), el.Dense(1)])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                               keras.layers.Lambda(fn), keras.layers.Dense(1)])
    theirs.set_weights(ours.get_weights())
    x = _rand(8, 3, seed=2)
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)
    y = (x[:, :1] ** 2).astype(np.float32)
    ours.compile(optimizer=ek.optimizers.Adam(0.01), loss="mse")
    history = ours.fit(x, y, epochs=40, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_lambda_mask_function_feeds_the_lstm_as_in_keras():
    keras = real_keras()
    ids = np.array([[3, 1, 2, 0, 0], [4, 4, 0, 0, 0]])

    first_three = np.arange(5) < 3

    def build(m, keep_first_three):
        return [m.Embedding(6, 3, mask_zero=True),
                m.Lambda(lambda t: t * 2.0, mask=keep_first_three), m.LSTM(2)]

    ours = ek.Sequential([el.Input((5,))] + build(
        el, lambda inputs, mask: mask & ember.from_numpy(first_three)))
    theirs = keras.Sequential([keras.Input((5,))] + build(
        keras.layers, lambda inputs, mask: keras.ops.logical_and(mask, first_three)))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(ids, verbose=0), to_numpy(theirs(ids)), rtol=1e-5,
                               atol=1e-6)
    # A fixed mask given as an array is returned whatever the input.
    fixed = el.Lambda(lambda t: t, mask=np.array([True, False]))
    assert fixed.compute_mask(ember.zeros(2, 2)).numpy().tolist() == [True, False]


def test_lambda_without_mask_drops_it_with_keras_warning():
    with pytest.warns(UserWarning, match="does not support masking"):
        model = ek.Sequential([el.Input((4,)), el.Embedding(5, 2, mask_zero=True),
                               el.Lambda(lambda t: t * 1.0), el.LSTM(2)])
    with pytest.warns(UserWarning, match="does not support masking"):
        out = model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    # The LSTM saw no mask: its output differs from the masked run's.
    masked = model.layers[2](model.layers[0](ember.from_numpy(np.array([[1, 2, 0, 0]]))),
                             mask=np.array([[True, True, False, False]]))
    assert not np.allclose(out, masked.detach().numpy())


def test_lambda_config_is_keras_shaped_and_round_trips_only_when_unsafe():
    keras = real_keras()
    layer = el.Lambda(lambda t, k=3: t * k, output_shape=(4,), arguments={"k": 2}, name="lam")
    config = layer.get_config()
    expected = keras.layers.Lambda(lambda t, k=3: t * k, output_shape=(4,), arguments={"k": 2},
                                   name="lam").get_config()
    assert set(config) == set(expected) - {"dtype"}
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    with pytest.raises(ValueError, match="safe_mode=False"):
        el.Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        with SafeModeScope(True):
            el.Lambda.from_config(config)
    clone = el.Lambda.from_config(config, safe_mode=False)
    x = _rand(2, 4, seed=3)
    np.testing.assert_allclose(run(clone, x), x * 2, rtol=1e-6)
    assert clone.name == "lam" and clone.compute_output_shape((None, 4)) == (None, 4)
    with SafeModeScope(False):
        assert run(el.Lambda.from_config(config), x).shape == (2, 4)
    assert in_safe_mode() is None
    # Real Keras reads ember's config and ember reads real Keras' (same interpreter).
    theirs = keras.layers.Lambda.from_config(dict(config), safe_mode=False)
    np.testing.assert_allclose(to_numpy(theirs(x)), x * 2, rtol=1e-6)
    expected.pop("dtype")
    np.testing.assert_allclose(run(el.Lambda.from_config(expected, safe_mode=False), x), x * 2,
                               rtol=1e-6)


def test_lambda_closure_named_functions_and_unsaveable_values():
    offset = 0.5
    layer = el.Lambda(lambda t: t + offset)
    config = layer.get_config()
    assert config["function"]["config"]["closure"] == [0.5]
    x = _rand(1, 3, seed=4)
    np.testing.assert_allclose(run(el.Lambda.from_config(config, safe_mode=False), x), x + 0.5)

    def double(t):
        return t * 2.0

    config = el.Lambda(double).get_config()
    assert config["function"] == {"module": __name__, "class_name": "function",
                                  "config": "double", "registered_name": "function"}
    with pytest.raises(ValueError, match="could not locate the function 'double'"):
        el.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(run(el.Lambda.from_config(
        config, custom_objects={"double": double}), x), x * 2)
    relu = el.Lambda.from_config(el.Lambda(ek.activations.relu).get_config())
    assert relu.function is ek.activations.relu
    captured = np.ones(3)
    with pytest.raises(ValueError, match="cannot be saved"):
        el.Lambda(lambda t: t + captured).get_config()
    with pytest.raises(ValueError, match="cannot be saved"):
        el.Lambda(lambda t, a: t + a, arguments={"a": captured}).get_config()


def test_saving_a_model_with_a_lambda(tmp_path):
    model = ek.Sequential([el.Input((3,)), el.Lambda(lambda t: t ** 2), el.Dense(2)])
    path = tmp_path / "m.ember"
    model.save(path)
    with pytest.raises(ValueError, match="arbitrary code execution"):
        ek.models.load_model(path)
    loaded = ek.models.load_model(path, safe_mode=False)
    x = _rand(5, 3, seed=5)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert in_safe_mode() is None  # the scope ends with load_model


def test_enable_unsafe_deserialization_allows_bytecode_afterwards():
    from ember.keras import safe_mode
    config = el.Lambda(lambda t: t).get_config()
    try:
        enable_unsafe_deserialization()
        assert el.Lambda.from_config(config).function(3) == 3
    finally:
        safe_mode._state["safe_mode"] = None


def test_lambda_bad_arguments():
    with pytest.raises(ValueError, match="must be callable"):
        el.Lambda(3)
    with pytest.raises(ValueError, match="arguments"):
        el.Lambda(lambda t: t, arguments=[1])
    for bad in (5, (2, -1), ("a",)):
        with pytest.raises(ValueError, match="output_shape"):
            el.Lambda(lambda t: t, output_shape=bad)
    with pytest.raises(TypeError, match="unrecognized keyword"):
        el.Lambda(lambda t: t, function_args=1)
