"""keras.layers.Attention and AdditiveAttention: the same outputs and attention scores as real
Keras 3 on the same weights (dot/concat scores, scale, masks, causal), a float64 gradient
check, config round trips, .keras files both ways, dropout, and argument errors."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_layer_checks import fresh_keras, gradcheck_layer, keras_weights, rand  # noqa: F401
from keras_reference import real_keras, to_numpy

Q, V, K = rand(2, 4, 3, seed=1), rand(2, 5, 3, seed=2), rand(2, 5, 3, seed=3)
Q_MASK = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], bool)

LAYERS = [("Attention", {}), ("Attention", {"use_scale": True}),
          ("Attention", {"use_scale": True, "score_mode": "concat"}),
          ("Attention", {"score_mode": "concat"}),
          ("AdditiveAttention", {}), ("AdditiveAttention", {"use_scale": False})]
CALLS = [("plain", {}, False), ("key", {}, True),
         ("causal_scores", {"use_causal_mask": True, "return_attention_scores": True}, False),
         ("masks", {"mask": [Q_MASK, V_MASK]}, True),
         ("masks_causal", {"mask": [Q_MASK, V_MASK], "use_causal_mask": True}, False)]


@pytest.fixture(autouse=True)
def _quiet_real_keras():
    with warnings.catch_warnings():  # real Keras' own __array__ warning under NumPy 2
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        yield


def _call(layer, lib_tensor, call_kw, with_key):
    kw = dict(call_kw)
    if "mask" in kw:
        kw["mask"] = [lib_tensor(m) for m in kw["mask"]]
    inputs = [lib_tensor(Q), lib_tensor(V)] + ([lib_tensor(K)] if with_key else [])
    return layer(inputs, **kw)


@pytest.mark.parametrize("call", CALLS, ids=[c[0] for c in CALLS])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{'-'.join(c[1]) or 'default'}")
def test_matches_real_keras_on_its_weights(layer, call):
    keras = real_keras()
    import torch
    cls, ctor = layer
    _, call_kw, with_key = call
    theirs, ours = getattr(keras.layers, cls)(**ctor), getattr(ek.layers, cls)(**ctor)
    _call(theirs, torch.tensor, call_kw, with_key)
    _call(ours, ember.tensor, call_kw, with_key)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in keras_weights(theirs)]
    rng = np.random.RandomState(5)
    theirs.set_weights([np.asarray(rng.randn(*w.shape), np.float32)
                        for w in keras_weights(theirs)])
    ours.set_weights(keras_weights(theirs))
    want = _call(theirs, torch.tensor, call_kw, with_key)
    got = _call(ours, ember.tensor, call_kw, with_key)
    if call_kw.get("return_attention_scores"):
        np.testing.assert_allclose(got[1].detach().numpy(), to_numpy(want[1]), rtol=1e-5,
                                   atol=1e-6)
        got, want = got[0], want[0]
    np.testing.assert_allclose(got.detach().numpy(), to_numpy(want), rtol=1e-5, atol=1e-5)
    expected = {k: v for k, v in theirs.get_config().items() if k not in ("dtype", "name")}
    assert {k: v for k, v in ours.get_config().items() if k != "name"} == expected


class _OnItself(ek.layers.Layer):
    def __init__(self, att, **kwargs):
        super().__init__(**kwargs)
        self.att = att

    def call(self, x):
        return self.att([x, x * 0.5], use_causal_mask=True)


@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{'-'.join(c[1]) or 'default'}")
def test_gradcheck_input_and_weights(layer):
    cls, ctor = layer
    assert gradcheck_layer(_OnItself(getattr(ek.layers, cls)(**ctor)), rand(2, 3, 4, seed=6))


def test_config_round_trip_and_weight_names():
    layer = ek.layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=4)
    layer([ember.tensor(Q), ember.tensor(V)])
    assert [n for n, _ in layer._own_weights()] == ["scale", "concat_score_weight"]
    clone = ek.layers.Attention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    additive = ek.layers.AdditiveAttention(dropout=0.1)
    additive([ember.tensor(Q), ember.tensor(V)])
    assert [w.shape for w in additive.get_weights()] == [(3,)]
    assert "score_mode" not in additive.get_config()
    assert ek.layers.AdditiveAttention.from_config(additive.get_config()).get_config() == \
        additive.get_config()


def test_dropout_only_while_training():
    layer = ek.layers.Attention(dropout=0.5, seed=2)
    inputs = [ember.tensor(Q), ember.tensor(V)]
    a = layer(inputs).detach().numpy()
    np.testing.assert_array_equal(layer(inputs, training=False).detach().numpy(), a)
    _, weights = layer(inputs, training=True, return_attention_scores=True)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    assert not np.allclose(layer(inputs, training=True).detach().numpy(), a)


def _model(lib, cls):
    q, v = lib.Input((4, 3)), lib.Input((5, 3))
    out = getattr(lib.layers, cls)()([q, v])
    return lib.Model([q, v], lib.layers.Dense(2)(lib.layers.Flatten()(out)))


@pytest.mark.parametrize("cls", ["Attention", "AdditiveAttention"])
@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_keras_files_load_into_the_other_library(writer, cls, tmp_path):
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model = _model(saving, cls)
    model.compile(optimizer="adam", loss="mse")
    model.fit([Q, V], rand(2, 2, seed=9), epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    expected = to_numpy(model.predict([Q, V], verbose=0))
    loaded = loading.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(loaded.predict([Q, V], verbose=0)), expected,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, call, text", [
    (lambda: ek.layers.Attention(score_mode="add"), None, "score_mode"),
    (lambda: ek.layers.Attention(dropout=1.5), None, "dropout"),
    (lambda: ek.layers.Attention(), lambda layer: layer(ember.tensor(Q)), "list of inputs"),
    (lambda: ek.layers.Attention(), lambda layer: layer([ember.tensor(Q)] * 4), "length 2 or 3"),
])
def test_bad_arguments(make, call, text):
    with pytest.raises(ValueError, match=text):
        layer = make()
        call(layer)
