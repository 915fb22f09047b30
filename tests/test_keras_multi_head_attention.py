"""keras.layers.MultiHeadAttention: Keras 3's weight layout and order (set_weights from real
Keras gives the same outputs and attention scores, 1e-5) across options and masks, Keras
masks from Embedding(mask_zero=True), a float64 gradient check, config round trips, .keras
files both ways, dropout, and argument errors."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_layer_checks import fresh_keras, gradcheck_layer, keras_weights, rand  # noqa: F401
from keras_reference import real_keras, to_numpy

Q, V, K = rand(2, 4, 6, seed=1), rand(2, 5, 3, seed=2), rand(2, 5, 7, seed=3)
MASK = np.random.RandomState(4).rand(2, 4, 5) > 0.3
MASK[0, 1] = False  # a query that sees no key: the two computation paths differ there

# (name, constructor kwargs, call kwargs (key/attention_mask as arrays))
CASES = [
    ("plain", {}, {}),
    ("value_dim_output_shape", {"value_dim": 3, "output_shape": (2, 5)}, {}),
    ("output_shape_int", {"output_shape": 4}, {}),
    ("no_bias_causal", {"use_bias": False}, {"use_causal_mask": True}),
    ("separate_key_causal", {}, {"key": K, "use_causal_mask": True}),
    ("attention_mask", {}, {"attention_mask": MASK}),
    ("attention_mask_scores", {}, {"attention_mask": MASK, "return_attention_scores": True}),
    ("causal_and_mask_scores", {}, {"attention_mask": MASK, "use_causal_mask": True,
                                    "return_attention_scores": True}),
    ("gate_sliding_window", {"use_gate": True, "sliding_window": 2}, {}),
    ("attention_axes_1", {"attention_axes": 1}, {}),
    ("attention_axes_minus_2_scores", {"attention_axes": -2}, {"return_attention_scores": True}),
]


@pytest.fixture(autouse=True)
def _quiet_real_keras():
    with warnings.catch_warnings():  # real Keras' own __array__ warning under NumPy 2
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        yield


def _call(layer, lib_tensor, call_kw):
    kw = {k: lib_tensor(v) if isinstance(v, np.ndarray) else v for k, v in call_kw.items()}
    return layer(lib_tensor(Q), lib_tensor(V), **kw)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_real_keras_on_its_weights(case):
    keras = real_keras()
    import torch
    _, ctor, call_kw = case
    theirs = keras.layers.MultiHeadAttention(2, 3, **ctor)
    ours = ek.layers.MultiHeadAttention(2, 3, **ctor)
    want = _call(theirs, torch.tensor, call_kw)
    _call(ours, ember.tensor, call_kw)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in keras_weights(theirs)]
    rng = np.random.RandomState(5)  # random weights, biases too
    theirs.set_weights([rng.randn(*w.shape).astype(np.float32) for w in keras_weights(theirs)])
    want = _call(theirs, torch.tensor, call_kw)
    ours.set_weights(keras_weights(theirs))
    got = _call(ours, ember.tensor, call_kw)
    if call_kw.get("return_attention_scores"):
        np.testing.assert_allclose(got[1].detach().numpy(), to_numpy(want[1]), rtol=1e-5,
                                   atol=1e-5)
        got, want = got[0], want[0]
    np.testing.assert_allclose(got.detach().numpy(), to_numpy(want), rtol=1e-5, atol=1e-5)
    assert ours.compute_output_shape(Q.shape, V.shape) == \
        tuple(theirs.compute_output_shape(Q.shape, V.shape))


def test_weight_order_and_names_follow_keras():
    layer = ek.layers.MultiHeadAttention(2, 3, value_dim=4, use_gate=True)
    layer(ember.tensor(Q), ember.tensor(V))
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(6, 2, 3), (2, 3), (3, 2, 3), (2, 3), (6, 2, 4), (2, 4), (3, 2, 4),
                      (2, 4), (2, 4, 6), (6,)]
    assert [layer.query_dense.name, layer.key_dense.name, layer.value_dense.name,
            layer.output_dense.name] == ["query", "key", "value", "attention_output"]


class _SelfAttention(ek.layers.Layer):
    def __init__(self, mha, **kwargs):
        super().__init__(**kwargs)
        self.mha = mha

    def call(self, x):
        return self.mha(x, x, use_causal_mask=True)


@pytest.mark.parametrize("ctor", [{}, {"use_gate": True, "output_shape": 3}])
def test_gradcheck_input_and_every_weight(ctor):
    wrapper = _SelfAttention(ek.layers.MultiHeadAttention(2, 2, **ctor))
    assert gradcheck_layer(wrapper, rand(2, 3, 4, seed=6))


def test_scores_path_gradcheck_with_mask():
    mask = ember.tensor(MASK[:, :3, :3] | np.eye(3, dtype=bool))

    class Masked(_SelfAttention):
        def call(self, x):
            return self.mha(x, x, attention_mask=mask, return_attention_scores=True)[0]

    assert gradcheck_layer(Masked(ek.layers.MultiHeadAttention(2, 2)), rand(2, 3, 4, seed=7))


def test_keras_masks_of_embedding_inputs_match_real_keras():
    keras = real_keras()
    ids = np.array([[3, 5, 2, 0, 0], [1, 4, 4, 6, 2]], dtype=np.int32)

    def build(lib):
        inp = lib.Input((5,), dtype="int32")
        x = lib.layers.Embedding(8, 6, mask_zero=True)(inp)
        y = lib.layers.MultiHeadAttention(2, 3)(x, x)
        return lib.Model(inp, y)

    theirs, ours = build(keras), build(ek)
    ours.set_weights([to_numpy(w) for w in theirs.get_weights()])
    np.testing.assert_allclose(ours.predict(ids, verbose=0), to_numpy(theirs.predict(
        ids, verbose=0)), rtol=1e-5, atol=1e-5)


def test_config_round_trip_gives_the_same_layer():
    layer = ek.layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=(5,),
                                         kernel_initializer="he_normal", use_gate=True, seed=3)
    out = layer(ember.tensor(Q), ember.tensor(V))
    config = layer.get_config()
    assert config["output_shape"] == (5,) and config["value_dim"] == 4 and config["seed"] == 3
    clone = ek.layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    clone(ember.tensor(Q), ember.tensor(V))
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(ember.tensor(Q), ember.tensor(V)).detach().numpy(),
                                  out.detach().numpy())


def _transformer_block(lib):
    inp = lib.Input((4, 6))
    att = lib.layers.MultiHeadAttention(2, 3, dropout=0.1)(inp, inp, use_causal_mask=True)
    x = lib.layers.LayerNormalization()(lib.layers.Add()([inp, att]))
    return lib.Model(inp, lib.layers.Dense(2)(lib.layers.Flatten()(x)))


@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_keras_files_load_into_the_other_library(writer, tmp_path):
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model = _transformer_block(saving)
    model.compile(optimizer="adam", loss="mse")
    x, y = rand(8, 4, 6, seed=8), rand(8, 2, seed=9)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    expected = to_numpy(model.predict(x, verbose=0))
    loaded = loading.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(loaded.predict(x, verbose=0)), expected, rtol=1e-5,
                               atol=1e-5)
    fresh = _transformer_block(loading)
    fresh.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(to_numpy(fresh.predict(x, verbose=0)), expected, rtol=1e-5,
                               atol=1e-5)


def test_dropout_applies_only_in_training():
    layer = ek.layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    q, v = ember.tensor(Q), ember.tensor(V)
    a = layer(q, v, training=False).detach().numpy()
    np.testing.assert_array_equal(layer(q, v).detach().numpy(), a)
    _, scores = layer(q, v, training=True, return_attention_scores=True)
    np.testing.assert_allclose(scores.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    assert not np.allclose(layer(q, v, training=True).detach().numpy(), a)


def test_trains_in_a_model():
    model = _transformer_block(ek)
    model.compile(optimizer="adam", loss="mse")
    x, y = rand(16, 4, 6, seed=10), rand(16, 2, seed=11)
    history = model.fit(x, y, epochs=60, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


@pytest.mark.parametrize("ctor, error, text", [
    ({"num_heads": 0, "key_dim": 2}, ValueError, "num_heads"),
    ({"num_heads": 2, "key_dim": -1}, ValueError, "key_dim"),
    ({"num_heads": 2, "key_dim": 2, "value_dim": 0}, ValueError, "value_dim"),
    ({"num_heads": 2, "key_dim": 2, "dropout": 2.0}, ValueError, "dropout"),
    ({"num_heads": 2, "key_dim": 2, "attention_axes": "x"}, ValueError, "attention_axes"),
    ({"num_heads": 2, "key_dim": 2, "flash_attention": True}, NotImplementedError, "flash"),
    ({"num_heads": 2, "key_dim": 2, "sliding_window": 0}, ValueError, "sliding_window"),
])
def test_bad_constructor_arguments(ctor, error, text):
    with pytest.raises(error, match=text):
        ek.layers.MultiHeadAttention(**ctor)


Q4, V4 = rand(2, 3, 4, 6, seed=12), rand(2, 3, 5, 3, seed=13)
V4_BOTH = rand(2, 2, 5, 3, seed=14)  # other sizes on both attention axes
V4_FIRST = rand(2, 5, 4, 3, seed=15)


@pytest.mark.parametrize("axes, value", [(None, V4_BOTH), ((1,), V4_FIRST), ((2,), V4),
                                         ((-2,), V4), ((1, 2), V4_BOTH)])
@pytest.mark.parametrize("scores", [False, True])
def test_higher_rank_inputs_and_attention_axes_match_real_keras(axes, value, scores):
    keras = real_keras()
    import torch
    theirs = keras.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    ours = ek.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    theirs(torch.tensor(Q4), torch.tensor(value))
    ours(ember.tensor(Q4), ember.tensor(value))
    rng = np.random.RandomState(6)
    theirs.set_weights([rng.randn(*w.shape).astype(np.float32) for w in keras_weights(theirs)])
    ours.set_weights(keras_weights(theirs))
    want = theirs(torch.tensor(Q4), torch.tensor(value), return_attention_scores=scores)
    got = ours(ember.tensor(Q4), ember.tensor(value), return_attention_scores=scores)
    if scores:
        np.testing.assert_allclose(got[1].detach().numpy(), to_numpy(want[1]), rtol=1e-5,
                                   atol=1e-6)
        got, want = got[0], want[0]
    np.testing.assert_allclose(got.detach().numpy(), to_numpy(want), rtol=1e-5, atol=1e-5)
    assert ours.get_config()["attention_axes"] == theirs.get_config()["attention_axes"]


def test_unsupported_masks_and_bad_shapes_say_so():
    with pytest.raises(NotImplementedError, match="masks"):
        ek.layers.MultiHeadAttention(2, 2)(ember.tensor(Q4), ember.tensor(V4),
                                           use_causal_mask=True)
    with pytest.raises(ValueError, match="attention_axes"):
        ek.layers.MultiHeadAttention(2, 2, attention_axes=(2,))(ember.tensor(Q),
                                                                  ember.tensor(V))
    with pytest.raises(ValueError, match="same rank"):
        ek.layers.MultiHeadAttention(2, 2)(ember.tensor(Q), ember.tensor(V4))
    with pytest.raises(ValueError, match="except the last one"):
        ek.layers.MultiHeadAttention(2, 2)(ember.tensor(Q), ember.tensor(V),
                                           key=ember.randn(2, 6, 3))


def test_gradcheck_higher_rank_over_two_axes():
    class OnItself(ek.layers.Layer):
        def __init__(self, mha, **kwargs):
            super().__init__(**kwargs)
            self.mha = mha

        def call(self, x):
            return self.mha(x, x, return_attention_scores=True)[0]

    wrapper = OnItself(ek.layers.MultiHeadAttention(2, 2, attention_axes=(1, 2)))
    assert gradcheck_layer(wrapper, rand(1, 2, 3, 3, seed=16))
