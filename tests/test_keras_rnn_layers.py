"""Keras face of the recurrent layers: Embedding, SimpleRNN, LSTM, GRU, Bidirectional, masking in
Sequential, Keras weight layouts, saving, training, and optimizer gradient clipping.

References are NumPy loops over time of Keras 3's cell formulas and its backend's ``rnn`` rules
(go_backwards returns the sequence in processing order; masked steps carry the states over and
output the previous output, or zeros with zero_output_for_mask).
"""
import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- NumPy references (Keras layout and gate order) ----------------------------------------------
def simple_rnn_step(act):
    def step(x, states, weights):
        kernel, recurrent, bias = weights
        h = act(x @ kernel + states[0] @ recurrent + bias)
        return h, [h]
    return step


def lstm_step(x, states, weights):
    kernel, recurrent, bias = weights
    h, c = states
    z = x @ kernel + h @ recurrent + bias
    zi, zf, zc, zo = np.split(z, 4, axis=-1)  # Keras' order i, f, c, o
    c = sigmoid(zf) * c + sigmoid(zi) * np.tanh(zc)
    h = sigmoid(zo) * np.tanh(c)
    return h, [h, c]


def gru_step(x, states, weights):
    kernel, recurrent, bias = weights  # bias (2, 3H): input bias, recurrent bias
    h = states[0]
    x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)  # Keras' order z, r, h
    r_z, r_r, r_h = np.split(h @ recurrent + bias[1], 3, axis=-1)
    z = sigmoid(x_z + r_z)
    r = sigmoid(x_r + r_r)
    hh = np.tanh(x_h + r * r_h)
    h = z * h + (1.0 - z) * hh
    return h, [h]


def keras_rnn(step, x, weights, states, mask=None, go_backwards=False,
              zero_output_for_mask=False):
    """(outputs (B, T, H) in processing order, last output, final states), float64."""
    x = np.asarray(x, np.float64)
    weights = [np.asarray(w, np.float64) for w in weights]
    states = [np.asarray(s, np.float64) for s in states]
    steps = range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])
    outputs = []
    for t in steps:
        out, new_states = step(x[:, t], states, weights)
        if mask is not None:
            keep = mask[:, t][:, None]
            out = np.where(keep, out, 0.0 if zero_output_for_mask else states[0])
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
        outputs.append(out)
        states = new_states
    outputs = np.stack(outputs, axis=1)
    return outputs, outputs[:, -1], states


STEPS = {"SimpleRNN": simple_rnn_step(np.tanh), "LSTM": lstm_step, "GRU": gru_step}
STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def random_keras_weights(layer, rng, scale=0.5):
    """Random weights of the layer's Keras shapes, set through set_weights."""
    weights = [rng.uniform(-scale, scale, w.shape).astype(np.float32)
               for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def built(cls, units, features, **kwargs):
    layer = cls(units, **kwargs)
    layer.build((None, None, features))
    return layer


def as_list(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


# ---- each layer against its NumPy reference -----------------------------------------------------
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_layer_matches_keras_formulas(name, go_backwards, return_sequences):
    rng = np.random.default_rng(1)
    layer = built(getattr(layers, name), 4, 3, go_backwards=go_backwards,
                  return_sequences=return_sequences, return_state=True)
    weights = random_keras_weights(layer, rng)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    zeros = [np.zeros((2, 4))] * STATES[name]
    outputs, last, states = keras_rnn(STEPS[name], x, weights, zeros, go_backwards=go_backwards)
    got = as_list(layer(x))
    assert len(got) == 1 + STATES[name]
    expected_output = outputs if return_sequences else last
    assert tuple(got[0].shape) == expected_output.shape
    np.testing.assert_allclose(got[0].detach().numpy(), expected_output, rtol=1e-5, atol=1e-5)
    for g, s in zip(got[1:], states):
        np.testing.assert_allclose(g.detach().numpy(), s, rtol=1e-5, atol=1e-5)


def test_simple_rnn_relu_matches_numpy():
    rng = np.random.default_rng(2)
    layer = built(layers.SimpleRNN, 3, 2, activation="relu", return_sequences=True)
    weights = random_keras_weights(layer, rng)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    outputs, _, _ = keras_rnn(simple_rnn_step(lambda v: np.maximum(v, 0.0)), x, weights,
                              [np.zeros((3, 3))])
    np.testing.assert_allclose(layer(x).detach().numpy(), outputs, rtol=1e-5, atol=1e-6)


def test_use_bias_false():
    rng = np.random.default_rng(3)
    for name in ("SimpleRNN", "LSTM", "GRU"):
        layer = built(getattr(layers, name), 3, 2, use_bias=False, return_sequences=True)
        weights = random_keras_weights(layer, rng)
        assert len(weights) == 2
        gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[name]
        bias = np.zeros((2, 3 * gates)) if name == "GRU" else np.zeros(3 * gates)
        x = rng.standard_normal((2, 3, 2)).astype(np.float32)
        outputs, _, _ = keras_rnn(STEPS[name], x, weights + [bias],
                                  [np.zeros((2, 3))] * STATES[name])
        np.testing.assert_allclose(layer(x).detach().numpy(), outputs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_state(name):
    rng = np.random.default_rng(4)
    layer = built(getattr(layers, name), 4, 3, return_sequences=True, return_state=True)
    weights = random_keras_weights(layer, rng)
    x = rng.standard_normal((2, 3, 3)).astype(np.float32)
    init = [rng.standard_normal((2, 4)).astype(np.float32) for _ in range(STATES[name])]
    outputs, _, states = keras_rnn(STEPS[name], x, weights, init)
    got = layer(x, initial_state=init)
    np.testing.assert_allclose(got[0].detach().numpy(), outputs, rtol=1e-5, atol=1e-5)
    for g, s in zip(got[1:], states):
        np.testing.assert_allclose(g.detach().numpy(), s, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state must be a list of"):
        layer(x, initial_state=init + [init[0]])
    with pytest.raises(ember.ShapeError, match=r"\(2, 4\)"):
        layer(x, initial_state=[np.zeros((2, 5), np.float32)] * STATES[name])


def test_initial_state_gets_gradients():
    layer = built(layers.LSTM, 3, 2)
    h0 = ember.zeros(2, 3, requires_grad=True)
    c0 = ember.zeros(2, 3, requires_grad=True)
    layer(np.ones((2, 4, 2), np.float32), initial_state=[h0, c0]).sum().backward()
    assert h0.grad is not None and np.abs(h0.grad.detach().numpy()).sum() > 0
    assert c0.grad is not None and np.abs(c0.grad.detach().numpy()).sum() > 0


# ---- masking -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_mask_matches_keras_rules(name, go_backwards, zero_output_for_mask):
    rng = np.random.default_rng(5)
    layer = built(getattr(layers, name), 3, 2, return_sequences=True, return_state=True,
                  go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    weights = random_keras_weights(layer, rng)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 0, 1, 0, 1]], bool)
    outputs, _, states = keras_rnn(STEPS[name], x, weights, [np.zeros((3, 3))] * STATES[name],
                                   mask=mask, go_backwards=go_backwards,
                                   zero_output_for_mask=zero_output_for_mask)
    got = layer(x, mask=ember.from_numpy(mask))
    np.testing.assert_allclose(got[0].detach().numpy(), outputs, rtol=1e-5, atol=1e-5)
    for g, s in zip(got[1:], states):
        np.testing.assert_allclose(g.detach().numpy(), s, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_padded_sequences_give_the_unpadded_final_state(cls):
    ember.manual_seed(1)
    lengths = [5, 2, 3]
    rng = np.random.default_rng(6)
    ids = np.zeros((3, 6), np.int64)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, 10, n)
    model = keras.Sequential([keras.Input((6,)), layers.Embedding(10, 4, mask_zero=True),
                              cls(5)])
    padded = model.predict(ids, verbose=0)
    embed, rnn = model.layers
    for row, n in enumerate(lengths):
        alone = rnn(embed(ids[row:row + 1, :n])).detach().numpy()
        np.testing.assert_allclose(padded[row:row + 1], alone, rtol=1e-5, atol=1e-6)


def test_mask_shape_is_checked():
    layer = built(layers.GRU, 3, 2)
    with pytest.raises(ember.ShapeError, match=r"\(2, 4\)"):
        layer(np.zeros((2, 4, 2), np.float32), mask=np.ones((2, 3), bool))


# ---- dropout -------------------------------------------------------------------------------------
def test_dropout_one_input_mask_for_all_steps():
    rng = np.random.default_rng(7)
    layer = built(layers.LSTM, 3, 4, dropout=0.5, seed=11, return_sequences=True)
    weights = random_keras_weights(layer, rng)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    # The layer draws its (batch, 1, features) mask from its own seeded generator.
    g = ember.Generator().manual_seed(11)
    keep = ember.rand(2, 1, 4, generator=g).detach().numpy() >= 0.5
    outputs, _, _ = keras_rnn(lstm_step, x * keep / 0.5, weights, [np.zeros((2, 3))] * 2)
    np.testing.assert_allclose(layer(x, training=True).detach().numpy(), outputs, rtol=1e-5,
                               atol=1e-5)
    reference, _, _ = keras_rnn(lstm_step, x, weights, [np.zeros((2, 3))] * 2)
    np.testing.assert_allclose(layer(x, training=False).detach().numpy(), reference, rtol=1e-5,
                               atol=1e-5)
    layer.eval()
    np.testing.assert_allclose(layer(x).detach().numpy(), reference, rtol=1e-5, atol=1e-5)


# ---- weights: Keras layouts, PyTorch equivalence -------------------------------------------------
@pytest.mark.parametrize("name,shapes", [
    ("SimpleRNN", [(3, 4), (4, 4), (4,)]),
    ("LSTM", [(3, 16), (4, 16), (16,)]),
    ("GRU", [(3, 12), (4, 12), (2, 12)]),
])
def test_weight_shapes_and_exact_round_trip(name, shapes):
    layer = built(getattr(layers, name), 4, 3)
    assert [w.shape for w in layer.get_weights()] == shapes
    assert layer.count_params() == sum(int(np.prod(s)) for s in shapes)
    weights = random_keras_weights(layer, np.random.default_rng(8))
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="weight shape"):
        layer.set_weights([np.zeros((4, 3), np.float32)] + weights[1:])


def test_default_initializers_match_keras():
    lstm = built(layers.LSTM, 4, 3)
    kernel, recurrent, bias = lstm.get_weights()
    limit = np.sqrt(6.0 / (3 + 16))  # glorot_uniform on (3, 16)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.5 * limit
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthogonal
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    no_forget = built(layers.LSTM, 4, 3, unit_forget_bias=False)
    np.testing.assert_array_equal(no_forget.get_weights()[2], np.zeros(16))
    gru_bias = built(layers.GRU, 4, 3).get_weights()[2]
    np.testing.assert_array_equal(gru_bias, np.zeros((2, 12)))


def test_parameters_are_stored_in_pytorch_layout():
    gru = built(layers.GRU, 2, 3)
    kernel, recurrent, bias = random_keras_weights(gru, np.random.default_rng(9))
    z, r, h = np.split(kernel, 3, axis=1)  # Keras z, r, h -> PyTorch r, z, n
    np.testing.assert_array_equal(gru.weight_ih.detach().numpy(), np.concatenate([r, z, h], 1).T)
    z, r, h = np.split(bias, 3, axis=1)
    np.testing.assert_array_equal(gru.bias.detach().numpy(), np.concatenate([r, z, h], 1))
    lstm = built(layers.LSTM, 2, 3)
    kernel, recurrent, bias = random_keras_weights(lstm, np.random.default_rng(9))
    np.testing.assert_array_equal(lstm.weight_hh.detach().numpy(), recurrent.T)
    np.testing.assert_array_equal(lstm.bias.detach().numpy(), bias)


def _torch_weights(name, weights):
    """PyTorch (weight_ih, weight_hh, bias_ih, bias_hh) from Keras weights."""
    kernel, recurrent, bias = weights
    if name == "GRU":
        def order(a):
            z, r, h = np.split(a, 3, axis=-1)
            return np.concatenate([r, z, h], axis=-1)
        return order(kernel).T, order(recurrent).T, order(bias[0]), order(bias[1])
    return kernel.T, recurrent.T, bias, np.zeros_like(bias)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_same_outputs_as_ember_pytorch_face_modules(name):
    rng = np.random.default_rng(10)
    layer = built(getattr(layers, name), 4, 3, return_sequences=True)
    weights = random_keras_weights(layer, rng)
    module = {"SimpleRNN": ember.nn.RNN, "LSTM": ember.nn.LSTM, "GRU": ember.nn.GRU}[name](
        3, 4, batch_first=True)
    with ember.no_grad():
        for attr, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               _torch_weights(name, weights)):
            getattr(module, attr).copy_(ember.from_numpy(np.ascontiguousarray(value)))
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    expected = module(ember.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_outputs_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    layer = built(getattr(layers, name), 4, 3, return_sequences=True)
    weights = random_keras_weights(layer, rng)
    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[name](
        3, 4, batch_first=True)
    with torch.no_grad():
        for attr, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               _torch_weights(name, weights)):
            getattr(module, attr).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    probe = rng.standard_normal((2, 5, 4)).astype(np.float32)
    ours = layer(x)
    (ours * ember.from_numpy(probe)).sum().backward()
    theirs = module(torch.from_numpy(x))[0]
    (theirs * torch.from_numpy(probe)).sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # Our gradients, in Keras layout, against PyTorch's converted the same way.
    ours_grads = [layer._to_keras_layout(n, p.grad.numpy()) for n, p in layer._own_weights()]
    t = {n: p.grad.detach().numpy() for n, p in module.named_parameters()}
    if name == "GRU":
        def keras_order(a):
            r, z, h = np.split(a, 3, axis=-1)
            return np.concatenate([z, r, h], axis=-1)
        expected = [keras_order(t["weight_ih_l0"].T), keras_order(t["weight_hh_l0"].T),
                    np.stack([keras_order(t["bias_ih_l0"]), keras_order(t["bias_hh_l0"])])]
    else:
        expected = [t["weight_ih_l0"].T, t["weight_hh_l0"].T, t["bias_ih_l0"]]
        np.testing.assert_allclose(t["bias_ih_l0"], t["bias_hh_l0"], rtol=1e-6, atol=1e-7)
    for got, want in zip(ours_grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# ---- Bidirectional -------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(merge_mode):
    rng = np.random.default_rng(12)
    bi = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    bi.build(x.shape)
    assert bi.forward_layer.name.startswith("forward_")
    assert bi.backward_layer.name.startswith("backward_") and bi.backward_layer.go_backwards
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in bi.get_weights()]
    bi.set_weights(weights)
    zeros = [np.zeros((2, 3))] * 2
    fwd, _, _ = keras_rnn(lstm_step, x, weights[:3], zeros)
    bwd, _, _ = keras_rnn(lstm_step, x, weights[3:], zeros, go_backwards=True)
    bwd = bwd[:, ::-1]  # Bidirectional flips the backward outputs back to input order
    expected = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd,
                "ave": (fwd + bwd) / 2, None: None}[merge_mode]
    got = bi(x)
    if merge_mode is None:
        np.testing.assert_allclose(got[0].detach().numpy(), fwd, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[1].detach().numpy(), bwd, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
        assert bi.compute_output_shape((None, 4, 2)) == (None, 4, 6 if merge_mode == "concat"
                                                         else 3)


def test_bidirectional_states_initial_state_and_mask():
    rng = np.random.default_rng(13)
    bi = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode="concat")
    x = rng.standard_normal((2, 5, 2)).astype(np.float32)
    bi.build(x.shape)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in bi.get_weights()]
    bi.set_weights(weights)
    init = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    _, fwd_last, (fwd_h,) = keras_rnn(gru_step, x, weights[:3], [init[0]], mask=mask)
    _, bwd_last, (bwd_h,) = keras_rnn(gru_step, x, weights[3:], [init[1]], mask=mask,
                                      go_backwards=True)
    output, h_fwd, h_bwd = bi(x, initial_state=init, mask=mask)
    np.testing.assert_allclose(output.detach().numpy(), np.concatenate([fwd_last, bwd_last], -1),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_fwd.detach().numpy(), fwd_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_bwd.detach().numpy(), bwd_h, rtol=1e-5, atol=1e-6)


def test_bidirectional_sequences_zero_masked_steps():
    rng = np.random.default_rng(14)
    bi = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode="sum")
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    bi.build(x.shape)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    out = bi(x, mask=mask).detach().numpy()
    np.testing.assert_array_equal(out[0, 2:], 0.0)  # Keras forces zero_output_for_mask
    assert np.all(out[1] != 0.0)
    assert bi.compute_mask(x, mask) is mask


def test_bidirectional_custom_backward_layer_and_errors():
    bi = layers.Bidirectional(layers.LSTM(3), backward_layer=layers.GRU(3, go_backwards=True))
    out = bi(np.zeros((2, 4, 2), np.float32))
    assert tuple(out.shape) == (2, 6)
    assert [w.shape for w in bi.get_weights()][3:] == [(2, 9), (3, 9), (2, 9)]
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(
            3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        layers.Bidirectional("lstm")


# ---- Embedding -----------------------------------------------------------------------------------
def test_embedding_lookup_mask_and_defaults():
    layer = layers.Embedding(10, 4, mask_zero=True)
    ids = np.array([[1, 2, 0], [9, 0, 0]])
    out = layer(ids)
    table = layer.get_weights()[0]
    assert table.shape == (10, 4) and np.abs(table).max() <= 0.05  # Keras "uniform"
    np.testing.assert_array_equal(out.detach().numpy(), table[ids])
    np.testing.assert_array_equal(layer.compute_mask(ids).detach().numpy(), ids != 0)
    np.testing.assert_array_equal(layer(ids.astype(np.float32)).detach().numpy(), table[ids])
    assert layers.Embedding(10, 4).compute_mask(ids) is None
    assert layer.compute_output_shape((None, 3)) == (None, 3, 4)


def test_embedding_gradient_and_errors():
    layer = layers.Embedding(5, 2)
    layer(np.array([[1, 1, 3]])).sum().backward()
    grad = layer.embeddings.grad.detach().numpy()
    np.testing.assert_array_equal(grad[:, 0], [0, 2, 0, 1, 0])
    with pytest.raises((ValueError, IndexError), match="5"):
        layer(np.array([[5]]))
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(3, -1)
    with pytest.raises(ValueError, match="constraint identifier: positive"):
        layers.Embedding(3, 2, embeddings_constraint="positive")


def test_configs_round_trip():
    for layer in (layers.Embedding(7, 3, mask_zero=True, input_length=5),
                  layers.SimpleRNN(3, activation="relu", go_backwards=True),
                  layers.LSTM(4, return_sequences=True, unit_forget_bias=False, dropout=0.25),
                  layers.GRU(2, return_state=True, use_bias=False),
                  layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="ave")):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


# ---- Sequential: masks, saving, training ---------------------------------------------------------
def test_sequential_propagates_the_mask_through_dropout():
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    model = keras.Sequential([keras.Input((4,)), layers.Embedding(8, 3, mask_zero=True),
                              layers.Dropout(0.5), layers.LSTM(2)])
    padded = model.predict(ids, verbose=0)
    embed, _, lstm = model.layers
    np.testing.assert_allclose(padded[1:], lstm(embed(ids[1:, :1])).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_masked_sequence_output_cannot_be_trained():
    model = keras.Sequential([keras.Input((4,)), layers.Embedding(8, 3, mask_zero=True),
                              layers.LSTM(2, return_sequences=True), layers.Dense(1)])
    assert model.predict(np.array([[1, 2, 0, 0]]), verbose=0).shape == (1, 4, 1)
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(NotImplementedError, match="mask"):
        model.fit(np.array([[1, 2, 0, 0]]), np.zeros((1, 4, 1)), verbose=0)


def test_layers_that_drop_or_need_the_mask():
    with pytest.warns(UserWarning, match="destroy the mask"):  # Keras warns when building
        flat = keras.Sequential([keras.Input((4,)), layers.Embedding(8, 3, mask_zero=True),
                                 layers.Flatten()])
    with pytest.warns(UserWarning, match="destroy the mask"):
        out = flat.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    assert out.shape == (1, 12)
    with pytest.raises(NotImplementedError, match="GlobalAveragePooling1D"):
        keras.Sequential([keras.Input((4,)), layers.Embedding(8, 3, mask_zero=True),
                          layers.GlobalAveragePooling1D()])


def test_save_and_load_model_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((6,)), layers.Embedding(12, 4, mask_zero=True),
                              layers.LSTM(5), layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    ids = np.random.default_rng(15).integers(0, 12, (8, 6))
    model.fit(ids, np.arange(8) % 2, epochs=1, verbose=0)
    model.save(tmp_path / "m.ember")
    loaded = keras.models.load_model(tmp_path / "m.ember")
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.layers[0].mask_zero and type(loaded.layers[1]) is layers.LSTM


def test_save_and_load_bidirectional_gru(tmp_path):
    model = keras.Sequential([keras.Input((5, 3)),
                              layers.Bidirectional(layers.GRU(4, return_sequences=True)),
                              layers.Bidirectional(layers.SimpleRNN(2), merge_mode="sum"),
                              layers.Dense(1)])
    x = np.random.default_rng(16).standard_normal((3, 5, 3)).astype(np.float32)
    model.save(tmp_path / "bi.ember")
    loaded = keras.models.load_model(tmp_path / "bi.ember")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_fit_learns_the_sign_of_a_sequence_sum():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((512, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((8, 1)), layers.LSTM(8), layers.Dense(1, "sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.02),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


# ---- errors --------------------------------------------------------------------------------------
def test_unsupported_arguments_raise_clear_errors():
    with pytest.raises(NotImplementedError, match="recurrent_dropout"):
        layers.LSTM(3, recurrent_dropout=0.2)
    with pytest.raises(NotImplementedError, match="activation='relu'"):
        layers.LSTM(3, activation="relu")
    with pytest.raises(NotImplementedError, match="recurrent_activation='tanh'"):
        layers.GRU(3, recurrent_activation="tanh")
    with pytest.raises(NotImplementedError, match="activation='sigmoid'"):
        layers.SimpleRNN(3, activation="sigmoid")
    with pytest.raises(NotImplementedError, match="reset_after=False"):
        layers.GRU(3, reset_after=False)
    with pytest.raises(NotImplementedError, match="stateful"):
        layers.SimpleRNN(3, stateful=True)
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRU(2, dropout="high")


def test_bad_inputs_raise_clear_errors():
    layer = layers.LSTM(3)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.zeros((2, 4), np.float32))
    layer(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), np.float32))


# ---- optimizers: gradient clipping (Keras 3 semantics) -------------------------------------------
def _clipped_update(grads, **clip):
    """The SGD(lr=1) step -(clipped gradient) that a Keras optimizer applies."""
    variables = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in grads]
    opt = keras.optimizers.SGD(learning_rate=1.0, **clip)
    opt.apply_gradients([(ember.from_numpy(g), v) for g, v in zip(grads, variables)])
    return [-v.detach().numpy() for v in variables]


GRADS = [np.array([[3.0, -4.0]], np.float32), np.array([0.5, -0.25, 1.0], np.float32)]


def test_clipnorm_clips_each_variable_by_its_norm():
    got = _clipped_update(GRADS, clipnorm=1.0)
    np.testing.assert_allclose(got[0], GRADS[0] / 5.0, rtol=1e-6)
    norm = np.sqrt(0.25 + 0.0625 + 1.0)
    np.testing.assert_allclose(got[1], GRADS[1] / norm, rtol=1e-6)
    np.testing.assert_allclose(_clipped_update(GRADS, clipnorm=10.0)[1], GRADS[1], rtol=1e-6)


def test_global_clipnorm_scales_all_variables_together():
    got = _clipped_update(GRADS, global_clipnorm=2.0)
    total = np.sqrt(25.0 + 0.25 + 0.0625 + 1.0)
    for g, want in zip(got, GRADS):
        np.testing.assert_allclose(g, want * 2.0 / total, rtol=1e-6)
    for g, want in zip(_clipped_update(GRADS, global_clipnorm=100.0), GRADS):
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_clipvalue_clips_each_element():
    got = _clipped_update(GRADS, clipvalue=0.5)
    for g, want in zip(got, GRADS):
        np.testing.assert_allclose(g, np.clip(want, -0.5, 0.5), rtol=1e-6)


def test_clipping_in_other_optimizers_and_fit():
    # Clipping happens before the update: Adagrad (not scale-invariant, unlike Adam) with
    # global_clipnorm equals Adagrad fed the gradients already divided by their global norm.
    total = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in GRADS))
    clipped_grads = [(g / total).astype(np.float32) for g in GRADS]

    def adagrad_step(grads, **clip):
        variables = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in grads]
        keras.optimizers.Adagrad(0.1, **clip).apply_gradients(
            [(ember.from_numpy(g.copy()), v) for g, v in zip(grads, variables)])
        return [v.detach().numpy() for v in variables]

    for a, b, c in zip(adagrad_step(GRADS, global_clipnorm=1.0), adagrad_step(clipped_grads),
                       adagrad_step(GRADS)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        assert not np.allclose(a, c, rtol=1e-3)
    model = keras.Sequential([keras.Input((3, 2)), layers.SimpleRNN(2), layers.Dense(1)])
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.1, clipvalue=0.01))
    before = [w.copy() for w in model.get_weights()]
    model.fit(np.ones((4, 3, 2), np.float32) * 10, np.full((4, 1), 100.0, np.float32),
              batch_size=4, verbose=0)
    changes = [np.abs(w1 - w0).max() for w0, w1 in zip(before, model.get_weights())]
    assert max(changes) == pytest.approx(0.1 * 0.01, rel=1e-3)  # large gradients, clipped


def test_clipping_arguments_are_checked():
    with pytest.raises(ValueError, match="only one of"):
        keras.optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm"):
        keras.optimizers.SGD(clipnorm=-1.0)
    config = keras.optimizers.RMSprop(global_clipnorm=0.5).get_config()
    assert config["global_clipnorm"] == 0.5
    assert keras.optimizers.RMSprop.from_config(config).global_clipnorm == 0.5
