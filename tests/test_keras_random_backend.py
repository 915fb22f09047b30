"""keras.random (seeding rules, distributions, dropout, shuffle), keras.backend and keras.config
(settings, image_data_format as the layers' default data_format, clear_session), and the
top-level names of ``from ember import keras``."""
import inspect

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from ember.testing import gradcheck
from keras_reference import real_keras


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    ek.config.set_epsilon(1e-7)
    ek.config.set_image_data_format("channels_last")


def arr(t):
    return t.detach().numpy()


# ---- keras.random ----------------------------------------------------------------------------
DRAWS = [("normal", {}), ("uniform", {}), ("truncated_normal", {}),
         ("randint", {"minval": 0, "maxval": 10}), ("gamma", {"alpha": 2.0}),
         ("beta", {"alpha": 2.0, "beta": 3.0}),
         ("binomial", {"counts": 5, "probabilities": 0.3})]


@pytest.mark.parametrize("name, kwargs", DRAWS, ids=[d[0] for d in DRAWS])
def test_seeding_rules(name, kwargs):
    draw = getattr(ek.random, name)
    # An int seed gives the same draw every call.
    np.testing.assert_array_equal(arr(draw((3, 4), seed=7, **kwargs)),
                                  arr(draw((3, 4), seed=7, **kwargs)))
    assert not np.array_equal(arr(draw((3, 4), seed=7, **kwargs)),
                              arr(draw((3, 4), seed=8, **kwargs)))
    # A SeedGenerator gives a new draw each call, the sequence fixed by its seed.
    gen_a, gen_b = ek.random.SeedGenerator(3), ek.random.SeedGenerator(3)
    first, second = arr(draw((5,), seed=gen_a, **kwargs)), arr(draw((5,), seed=gen_a, **kwargs))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, arr(draw((5,), seed=gen_b, **kwargs)))
    # No seed: the global generator, restarted by set_random_seed.
    ek.utils.set_random_seed(11)
    a = arr(draw((6,), **kwargs))
    assert not np.array_equal(a, arr(draw((6,), **kwargs)))
    ek.utils.set_random_seed(11)
    np.testing.assert_array_equal(a, arr(draw((6,), **kwargs)))


def test_distributions_and_dtypes():
    x = arr(ek.random.normal((20000,), mean=2.0, stddev=3.0, seed=1))
    assert x.dtype == np.float32 and abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    u = arr(ek.random.uniform((20000,), minval=-1.0, maxval=3.0, dtype="float64", seed=1))
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.05
    t = arr(ek.random.truncated_normal((20000,), mean=1.0, stddev=0.5, seed=2))
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1.0) < 0.02
    r = arr(ek.random.randint((5000,), 3, 7, seed=3))
    assert r.dtype == np.int32 and set(np.unique(r)) == {3, 4, 5, 6}
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.0001, 0.0001, 0.9998]]))
    c = arr(ek.random.categorical(logits, 4000, seed=4))
    assert c.shape == (2, 4000) and c.dtype == np.int32
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 4000, [0.7, 0.2, 0.1], atol=0.03)
    assert (c[1] == 2).mean() > 0.99


def test_dropout_scales_kept_values_and_is_differentiable():
    x = np.ones((200, 50), np.float32)
    y = arr(ek.random.dropout(x, 0.3, seed=5))
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    shared = arr(ek.random.dropout(x, 0.5, noise_shape=(None, 1), seed=6))
    assert np.all(shared == shared[:, :1])  # one mask value per row
    xt = ember.from_numpy(np.random.default_rng(0).random((3, 4))).requires_grad_()
    assert gradcheck(lambda t: ek.random.dropout(t, 0.4, seed=9), (xt,))
    with pytest.raises(ValueError, match="rate must be in"):
        ek.random.dropout(x, 1.0)


def test_shuffle_permutes_along_an_axis_and_is_differentiable():
    x = np.arange(24.0).reshape(4, 6)
    s = arr(ek.random.shuffle(x, axis=1, seed=1))
    assert not np.array_equal(s, x)
    np.testing.assert_array_equal(np.sort(s, axis=1), x)
    assert np.all(np.diff(s[:, 0]) == 6)  # whole columns moved
    xt = ember.from_numpy(x).requires_grad_()
    assert gradcheck(lambda t: ek.random.shuffle(t, seed=2), (xt,))


def test_bad_seeds_and_arguments():
    with pytest.raises(ValueError, match="seed"):
        ek.random.normal((2,), seed="one")
    with pytest.raises(ValueError, match="seed"):
        ek.random.SeedGenerator(1.5)
    with pytest.raises(TypeError, match="unrecognized"):
        ek.random.SeedGenerator(1, bogus=2)
    with pytest.raises(ValueError, match="float dtype"):
        ek.random.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="2-D"):
        ek.random.categorical(np.zeros(3), 2)


def test_random_signatures_match_keras():
    keras = real_keras()
    for name in ek.random.__all__:
        want = [(p.name, p.default) for p in
                inspect.signature(getattr(keras.random, name)).parameters.values()]
        got = [(p.name, p.default) for p in
               inspect.signature(getattr(ek.random, name)).parameters.values()]
        assert got == want, name


# ---- keras.backend and keras.config -------------------------------------------------------------
def test_settings():
    assert ek.backend.epsilon() == ek.config.epsilon() == 1e-7
    ek.backend.set_epsilon(1e-5)
    assert ek.config.epsilon() == 1e-5
    assert ek.backend.floatx() == "float32"
    ek.config.set_floatx("float32")
    with pytest.raises(NotImplementedError, match="float32 only"):
        ek.backend.set_floatx("float64")
    with pytest.raises(ValueError, match="Unknown `floatx`"):
        ek.config.set_floatx("float8")
    with pytest.raises(ValueError, match="data_format"):
        ek.config.set_image_data_format("nhwc")
    assert ek.backend.backend() == ek.config.backend() == "ember"
    from ember.keras import safe_mode
    lambda_config = ek.layers.Lambda(lambda t: t + 1).get_config()
    assert not ek.config.is_unsafe_deserialization_enabled()
    with pytest.raises(ValueError, match="safe_mode=False"):
        ek.layers.Lambda.from_config(lambda_config)
    try:
        ek.config.enable_unsafe_deserialization()
        assert ek.config.is_unsafe_deserialization_enabled()
        assert ek.layers.Lambda.from_config(lambda_config).function(1) == 2  # bytecode loads
    finally:
        safe_mode._state["safe_mode"] = None  # (process-wide: later tests load safely)


def test_epsilon_reaches_the_cross_entropy():
    target, output = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    before = arr(ek.ops.binary_crossentropy(target, output))
    ek.config.set_epsilon(1e-3)
    after = arr(ek.ops.binary_crossentropy(target, output))
    np.testing.assert_allclose(after, -np.log(1 - 1e-3) / 1.0 * np.array([[1.0, 1.0]]),
                               rtol=1e-5)
    assert after.max() > before.max()


def test_image_data_format_is_the_layers_default():
    rng = np.random.default_rng(0)
    x_last = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)

    def model():
        return ek.Sequential([layers.Conv2D(4, 3, padding="same"), layers.MaxPooling2D(),
                              layers.Conv2D(2, 3), layers.Flatten()])

    last = model()
    y_last = arr(last(x_last))
    ek.backend.set_image_data_format("channels_first")
    assert ek.config.image_data_format() == "channels_first"
    first = model()
    assert all(layer.data_format == "channels_first" for layer in first.layers)
    first(np.transpose(x_last, (0, 3, 1, 2)))
    first.set_weights(last.get_weights())
    y_first = arr(first(np.transpose(x_last, (0, 3, 1, 2))))
    # Flatten of channels_first flattens in channels_last order, as Keras does.
    np.testing.assert_allclose(y_first, y_last, rtol=1e-5, atol=1e-5)
    assert layers.GlobalAveragePooling2D().data_format == "channels_first"
    assert layers.Conv2D(1, 3, data_format="channels_last").data_format == "channels_last"


def test_clear_session_and_uids():
    layers.Dense(2)
    ek.backend.clear_session()
    assert layers.Dense(2).name == "dense" and layers.Dense(2).name == "dense_1"
    assert ek.backend.get_uid("x") == 1 and ek.backend.get_uid("x") == 2
    assert ek.backend.get_uid("y") == 1
    ek.backend.clear_session()
    assert ek.backend.get_uid("x") == 1


def test_dtype_helpers_match_keras():
    keras = real_keras()
    assert ek.backend.is_keras_tensor(ek.Input((3,)))
    assert not ek.backend.is_keras_tensor(ember.ones(2))
    for dtype in ("float16", "float64", "int8", "uint8", "bool", ember.int32, np.float32):
        theirs = keras.backend.standardize_dtype(
            dtype if not isinstance(dtype, ember.dtype) else str(dtype).split(".")[1])
        assert ek.backend.standardize_dtype(dtype) == theirs
        assert ek.backend.is_float_dtype(dtype) == keras.backend.is_float_dtype(theirs)
        assert ek.backend.is_int_dtype(dtype) == keras.backend.is_int_dtype(theirs)


def test_backend_and_config_signatures_match_keras():
    keras = real_keras()
    for module, theirs in ((ek.backend, keras.backend), (ek.config, keras.config)):
        for name in [n for n in dir(module) if not n.startswith("_")
                     and callable(getattr(module, n)) and hasattr(theirs, n)]:
            want = [p.name for p in inspect.signature(getattr(theirs, name)).parameters.values()]
            got = [p.name for p in inspect.signature(getattr(module, name)).parameters.values()]
            assert got == want, name


def test_top_level_names():
    assert ek.__version__ == "3.15.1" == ek.version()
    assert ek.Layer is layers.Layer and ek.Model is ek.models.Model
    assert ek.Sequential is ek.models.Sequential and callable(ek.Input)
    assert ek.ops.matmul is ek.ops.numpy.matmul
    for name in ("backend", "config", "ops", "random"):
        assert name in ek.__all__
