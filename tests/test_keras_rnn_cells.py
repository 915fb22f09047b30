"""keras.layers.RNN with SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, lists of cells and
user-defined cells: NumPy references of Keras' cell formulas and its backend's rnn rules, the
fused-kernel path against the step-by-step path, float64 gradient checks, real Keras 3 on the
same weights, and weights interchanged with the LSTM/GRU/SimpleRNN layers."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from ember.testing import gradcheck
from keras_reference import real_keras, to_numpy
from test_keras_rnn_layers import gru_step, keras_rnn, lstm_step, simple_rnn_step, sigmoid


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


CELLS = {"SimpleRNNCell": (layers.SimpleRNNCell, simple_rnn_step(np.tanh), 1),
         "LSTMCell": (layers.LSTMCell, lstm_step, 2),
         "GRUCell": (layers.GRUCell, gru_step, 1)}


# Subclasses are not fused (a subclass may change call): they take the step-by-step path.
class StepSimpleRNNCell(layers.SimpleRNNCell):
    pass


class StepLSTMCell(layers.LSTMCell):
    pass


class StepGRUCell(layers.GRUCell):
    pass


STEP_CELLS = {"SimpleRNNCell": StepSimpleRNNCell, "LSTMCell": StepLSTMCell,
              "GRUCell": StepGRUCell}


class MinimalRNNCell(layers.Layer):
    """Keras' documented user cell: ``output = x @ kernel + h @ recurrent_kernel``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        output = ek.ops.matmul(inputs, self.kernel) + ek.ops.matmul(states[0],
                                                                    self.recurrent_kernel)
        return output, [output]


def minimal_step(x, states, weights):
    kernel, recurrent = weights
    h = x @ kernel + states[0] @ recurrent
    return h, [h]


def rand(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def randomize(layer, seed=1, scale=0.5):
    weights = [rand(*w.shape, seed=seed + i, scale=scale)
               for i, w in enumerate(layer.get_weights())]
    layer.set_weights(weights)
    return weights


def as_list(y):
    return [t.detach().numpy() for t in y] if isinstance(y, (list, tuple)) else [y.detach().numpy()]


def run_built(cell, x, **kwargs):
    layer = layers.RNN(cell, **kwargs)
    layer(x[:, :1])
    return layer


def random_mask(batch, steps, seed=3):
    mask = np.random.default_rng(seed).random((batch, steps)) > 0.35
    mask[0, :] = True
    mask[1, -1] = False
    return mask


# ---- forward against NumPy -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_of_a_cell_matches_keras_formulas(name, step_path, go_backwards, masked):
    cls, step, n_states = CELLS[name]
    cell = (STEP_CELLS[name] if step_path else cls)(4)
    x = rand(3, 6, 5)
    layer = run_built(cell, x, return_sequences=True, return_state=True,
                      go_backwards=go_backwards)
    weights = randomize(layer)
    mask = random_mask(3, 6) if masked else None
    states = [np.zeros((3, 4))] * n_states
    seq, _, final = keras_rnn(step, x, weights, states, mask=mask, go_backwards=go_backwards)
    got = layer(x, mask=mask)
    assert len(got) == 1 + n_states
    np.testing.assert_allclose(got[0].detach().numpy(), seq, rtol=1e-5, atol=1e-5)
    for g, f in zip(got[1:], final):
        np.testing.assert_allclose(g.detach().numpy(), f, rtol=1e-5, atol=1e-5)
    last = layers.RNN(cell, go_backwards=go_backwards)(x, mask=mask)
    np.testing.assert_allclose(last.detach().numpy(), seq[:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_zero_output_for_mask(step_path, go_backwards):
    cell = (StepGRUCell if step_path else layers.GRUCell)(3)
    x = rand(3, 5, 2)
    layer = run_built(cell, x, return_sequences=True, go_backwards=go_backwards,
                      zero_output_for_mask=True)
    weights = randomize(layer)
    mask = random_mask(3, 5)
    seq, _, _ = keras_rnn(gru_step, x, weights, [np.zeros((3, 3))], mask=mask,
                          go_backwards=go_backwards, zero_output_for_mask=True)
    np.testing.assert_allclose(layer(x, mask=mask).detach().numpy(), seq, rtol=1e-5, atol=1e-5)
    last = layers.RNN(cell, go_backwards=go_backwards, zero_output_for_mask=True)(x, mask=mask)
    np.testing.assert_allclose(last.detach().numpy(), seq[:, -1], rtol=1e-5, atol=1e-5)
    assert np.all(last.detach().numpy()[1] == 0.0) != go_backwards  # sample 1's last step is masked


@pytest.mark.parametrize("name", sorted(CELLS))
def test_without_bias_fused_equals_steps(name):
    x = rand(2, 4, 3)
    fused = run_built(CELLS[name][0](3, use_bias=False), x, return_sequences=True)
    steps = run_built(STEP_CELLS[name](3, use_bias=False), x, return_sequences=True)
    weights = randomize(fused)
    assert len(weights) == 2
    steps.set_weights(weights)
    np.testing.assert_allclose(fused(x).detach().numpy(), steps(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_dropout_with_one_mask_per_gate_trains_step_by_step():
    x = rand(3, 4, 2)
    layer = run_built(layers.LSTMCell(3, dropout=0.5, implementation=1, seed=3), x)
    randomize(layer)
    a, b = layer(x, training=True).detach().numpy(), layer(x).detach().numpy()
    assert a.shape == b.shape == (3, 3) and not np.allclose(a, b)


def test_activations_the_kernel_lacks_run_step_by_step():
    x = rand(2, 4, 3)
    cell = layers.SimpleRNNCell(5, activation="sigmoid", use_bias=False)
    layer = run_built(cell, x, return_sequences=True)
    weights = randomize(layer)
    seq, _, _ = keras_rnn(simple_rnn_step(sigmoid), x, weights + [np.zeros(5)],
                          [np.zeros((2, 5))])
    np.testing.assert_allclose(layer(x).detach().numpy(), seq, rtol=1e-5, atol=1e-5)


def test_gru_reset_before_matches_keras_formula():
    x = rand(2, 4, 3)
    cell = layers.GRUCell(4, reset_after=False)
    layer = run_built(cell, x, return_sequences=True)
    kernel, recurrent, bias = randomize(layer)
    assert bias.shape == (12,)
    h = np.zeros((2, 4))
    expected = []
    for t in range(4):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias, 3, axis=-1)
        kz, kr, kh = np.split(recurrent, 3, axis=-1)
        z, r = sigmoid(xz + h @ kz), sigmoid(xr + h @ kr)
        h = z * h + (1 - z) * np.tanh(xh + (r * h) @ kh)
        expected.append(h)
    np.testing.assert_allclose(layer(x).detach().numpy(), np.stack(expected, 1), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("as_list_of_cells", [False, True])
@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_stacked_cells_feed_each_other(as_list_of_cells, step_path, go_backwards):
    lstm, gru = (StepLSTMCell, StepGRUCell) if step_path else (layers.LSTMCell, layers.GRUCell)
    cells = [lstm(4), gru(3)]
    x = rand(3, 5, 2)
    layer = run_built(cells if as_list_of_cells else layers.StackedRNNCells(cells), x,
                      return_sequences=True, return_state=True, go_backwards=go_backwards)
    assert isinstance(layer.cell, layers.StackedRNNCells)
    weights = randomize(layer, scale=0.4)
    mask = random_mask(3, 5)
    out = layer(x, mask=mask)
    # References: the first cell's output sequence (in time order) feeds the second cell.
    seq1, _, final1 = keras_rnn(lstm_step, x, weights[:3], [np.zeros((3, 4))] * 2, mask=mask,
                                go_backwards=go_backwards)
    in_time_order = seq1[:, ::-1] if go_backwards else seq1
    seq2, _, final2 = keras_rnn(gru_step, in_time_order, weights[3:], [np.zeros((3, 3))],
                                mask=mask, go_backwards=go_backwards)
    np.testing.assert_allclose(out[0].detach().numpy(), seq2, rtol=1e-5, atol=1e-5)
    (h1, c1), (h2,) = out[1], out[2]  # output, [h, c] of the LSTM, [h] of the GRU
    for got, want in zip((h1, c1, h2), final1 + final2):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-5)


def test_user_defined_cell():
    x = rand(2, 5, 3)
    layer = run_built(MinimalRNNCell(4), x, return_sequences=True, return_state=True)
    weights = randomize(layer, scale=0.3)
    seq, _, final = keras_rnn(minimal_step, x, weights, [np.zeros((2, 4))])
    out, h = layer(x)
    np.testing.assert_allclose(out.detach().numpy(), seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), final[0], rtol=1e-5, atol=1e-5)
    stacked = run_built([MinimalRNNCell(4), MinimalRNNCell(2)], x)
    assert tuple(stacked(x).shape) == (2, 2)
    assert [w.shape for w in stacked.get_weights()] == [(3, 4), (4, 4), (4, 2), (2, 2)]


class PlainCell:
    """A cell that is not a Layer (Keras accepts any object with call and state_size)."""

    state_size = 2
    output_size = 2

    def call(self, inputs, states):
        h = ember.tanh(inputs[:, :2] + states[0])
        return h, [h]


def test_a_cell_that_is_not_a_layer():
    x = rand(2, 3, 4)
    out = layers.RNN(PlainCell(), return_sequences=True)(x)
    h, expected = np.zeros((2, 2)), []
    for t in range(3):
        h = np.tanh(x[:, t, :2] + h)
        expected.append(h)
    np.testing.assert_allclose(out.detach().numpy(), np.stack(expected, 1), rtol=1e-6)


def test_cell_called_directly_and_training_reaches_the_cell():
    seen = []

    class Recording(MinimalRNNCell):
        def call(self, inputs, states, training=None):
            seen.append(training)
            return super().call(inputs, states)

    cell = Recording(3)
    x = rand(2, 4, 2)
    layers.RNN(cell)(x, training=True)
    assert seen == [True] * 4
    out, states = layers.LSTMCell(3)(rand(2, 2), [ember.zeros(2, 3), ember.zeros(2, 3)])
    assert tuple(out.shape) == (2, 3) and len(states) == 2


def test_initial_state():
    x = rand(2, 4, 3)
    layer = run_built(layers.LSTMCell(5), x, return_state=True)
    weights = randomize(layer)
    h0, c0 = rand(2, 5, seed=8), rand(2, 5, seed=9)
    _, last, final = keras_rnn(lstm_step, x, weights, [h0, c0])
    out, h, c = layer(x, initial_state=[h0, c0])
    np.testing.assert_allclose(out.detach().numpy(), last, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.detach().numpy(), final[1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state must hold 2"):
        layer(x, initial_state=[h0])
    with pytest.raises(ember.ShapeError, match=r"\(2, 5\)"):
        layer(x, initial_state=[h0[:, :3], c0])


@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
def test_leading_masked_steps_output_zeros_even_with_an_initial_state(step_path):
    # Keras' backend.rnn starts "the previous output" at zeros, not at the initial state.
    x = rand(2, 4, 3)
    mask = np.array([[False, True, True, True], [True, True, False, True]])
    layer = run_built((StepLSTMCell if step_path else layers.LSTMCell)(5), x,
                      return_sequences=True)
    randomize(layer)
    h0, c0 = rand(2, 5, seed=8), rand(2, 5, seed=9)
    out = layer(x, initial_state=[h0, c0], mask=mask).detach().numpy()
    np.testing.assert_array_equal(out[0, 0], 0.0)
    unmasked_from_h0 = layer(x[:1, 1:], initial_state=[h0[:1], c0[:1]]).detach().numpy()
    np.testing.assert_allclose(out[0, 1:], unmasked_from_h0[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1, 2], out[1, 1])  # a later masked step repeats


# ---- weights interchange with the LSTM/GRU/SimpleRNN layers --------------------------------
@pytest.mark.parametrize("cell_cls, layer_cls", [
    (layers.SimpleRNNCell, layers.SimpleRNN), (layers.LSTMCell, layers.LSTM),
    (layers.GRUCell, layers.GRU)])
def test_weights_interchange_with_the_layer(cell_cls, layer_cls):
    x = rand(3, 6, 4)
    full = layer_cls(5, return_sequences=True)
    full(x)
    randomize(full)
    via_cell = run_built(cell_cls(5), x, return_sequences=True)
    assert [w.shape for w in via_cell.get_weights()] == [w.shape for w in full.get_weights()]
    via_cell.set_weights(full.get_weights())
    np.testing.assert_allclose(via_cell(x).detach().numpy(), full(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_default_initializers_and_unit_forget_bias():
    layer = run_built(layers.LSTMCell(3), rand(1, 2, 2))
    bias = layer.get_weights()[2]
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    recurrent = layer.get_weights()[1]  # orthogonal columns
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)
    gru = run_built(layers.GRUCell(3, use_bias=False), rand(1, 2, 2))
    assert [w.shape for w in gru.get_weights()] == [(2, 9), (3, 9)]


# ---- dropout ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CELLS))
def test_dropout_one_mask_per_sequence_and_none_in_inference(name):
    cls, step, n_states = CELLS[name]
    x = rand(4, 5, 6)
    layer = run_built(cls(3, dropout=0.5, seed=1), x, return_sequences=True)
    weights = randomize(layer)
    plain, _, _ = keras_rnn(step, x, weights, [np.zeros((4, 3))] * n_states)
    np.testing.assert_allclose(layer(x).detach().numpy(), plain, rtol=1e-5, atol=1e-5)
    cell = layer.cell
    cell._generator = ember.Generator().manual_seed(7)
    trained = layer(x, training=True).detach().numpy()
    cell._generator = ember.Generator().manual_seed(7)  # the same draw again
    mask = cell._make_masks(ember.zeros(4, 6), 0.5).detach().numpy()
    # One (batch, features) mask of kept inputs * 2, the same at every step.
    expected, _, _ = keras_rnn(step, x * mask[:, None, :], weights,
                               [np.zeros((4, 3))] * n_states)
    np.testing.assert_allclose(trained, expected, rtol=1e-5, atol=1e-5)
    assert 0 < np.count_nonzero(mask) < mask.size
    assert set(np.unique(mask)) <= {0.0, 2.0}


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "SimpleRNNCell"])
def test_recurrent_dropout_trains_step_by_step(name):
    cls = CELLS[name][0]
    x = rand(3, 4, 2)
    layer = run_built(cls(3, recurrent_dropout=0.5, dropout=0.3, seed=2), x)
    randomize(layer)
    inference = layers.RNN(layer.cell)(x).detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), inference)
    a, b = layer(x, training=True).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    if name != "SimpleRNNCell":
        assert layer.cell.implementation == 1  # Keras: one mask per gate


# ---- gradients ------------------------------------------------------------------------------
def _gradcheck_layer(layer, x, **call_kwargs):
    """d(layer(x)) w.r.t. the input and every weight, in float64."""
    layer.double()
    names = [n for n, p in layer.named_parameters()]
    owners = []
    for n in names:
        module, attr = layer, n
        while "." in attr:
            head, attr = attr.split(".", 1)
            module = getattr(module, head)
        owners.append((module, attr))

    def f(inp, *params):
        saved = [m._parameters[a] for m, a in owners]
        for (m, a), p in zip(owners, params):
            m._parameters[a] = p
        try:
            out = layer(inp, **call_kwargs)
            return tuple(out) if isinstance(out, (list, tuple)) else out
        finally:
            for (m, a), p in zip(owners, saved):
                m._parameters[a] = p

    params = [m._parameters[a].detach().requires_grad_() for m, a in owners]
    xt = ember.from_numpy(x.astype(np.float64)).requires_grad_()
    assert gradcheck(f, (xt, *params), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
def test_gradients(name, step_path):
    cell = (STEP_CELLS[name] if step_path else CELLS[name][0])(3)
    x = rand(2, 4, 3)
    layer = run_built(cell, x, return_sequences=True, return_state=True, go_backwards=True)
    randomize(layer)
    _gradcheck_layer(layer, x, mask=random_mask(2, 4))


def test_gradients_of_stacked_and_user_cells():
    x = rand(2, 3, 2)
    layer = run_built([layers.GRUCell(3), layers.SimpleRNNCell(2)], x, return_sequences=True)
    randomize(layer)
    _gradcheck_layer(layer, x)
    user = run_built([MinimalRNNCell(3), StepLSTMCell(2)], x, return_state=True)
    randomize(user, scale=0.3)
    _gradcheck_layer(user, x)


def test_gradients_reach_the_initial_state():
    x = ember.from_numpy(rand(2, 3, 2).astype(np.float64))
    layer = run_built(layers.GRUCell(3), rand(2, 3, 2))
    layer.double()
    h0 = ember.from_numpy(rand(2, 3, seed=5).astype(np.float64)).requires_grad_()
    assert gradcheck(lambda h: layer(x, initial_state=[h]), (h0,))


# ---- models, training, config ------------------------------------------------------------------
def test_sequential_with_embedding_mask_trains_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, (64, 7))
    lengths = rng.integers(2, 8, 64)
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    y = (np.where(x > 0, x, 0).sum(1) > 3 * lengths).astype(np.float32)
    model = ek.Sequential([ek.Input((7,)), layers.Embedding(6, 4, mask_zero=True),
                           layers.RNN(layers.LSTMCell(8)), layers.Dense(1, "sigmoid")])
    model.compile(optimizer=ek.optimizers.Adam(0.02), loss="binary_crossentropy")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first * 0.6
    path = str(tmp_path / "m.ember")
    model.save(path)
    loaded = ek.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_configs_round_trip():
    layer = layers.RNN([layers.LSTMCell(3, unit_forget_bias=False), layers.GRUCell(
        2, reset_after=False, dropout=0.25)], return_sequences=True, go_backwards=True)
    again = layers.RNN.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    config = again.get_config()
    assert config["cell"]["class_name"] == "StackedRNNCells"
    cells = config["cell"]["config"]["cells"]
    assert cells[1]["config"]["reset_after"] is False and cells[1]["config"]["dropout"] == 0.25
    assert tuple(again(rand(2, 3, 4)).shape) == (2, 3, 2)


def test_get_initial_state():
    layer = layers.RNN([layers.LSTMCell(3), MinimalRNNCell(2)])
    states = layer.get_initial_state(4)
    assert [[tuple(t.shape) for t in s] if isinstance(s, list) else tuple(s.shape)
            for s in states] == [[(4, 3), (4, 3)], (4, 2)]


def test_output_shapes_and_masks():
    layer = layers.RNN(layers.LSTMCell(3), return_sequences=True, return_state=True)
    assert layer.compute_output_shape((None, 5, 2)) == ((None, 5, 3), (None, 3), (None, 3))
    assert layers.RNN([layers.GRUCell(4), layers.SimpleRNNCell(2)]).compute_output_shape(
        (None, 5, 2)) == (None, 2)
    mask = np.ones((2, 5), bool)
    assert layer.compute_mask(None, mask)[0] is mask
    assert layers.RNN(layers.GRUCell(2)).compute_mask(None, mask) is None


def test_bad_arguments_and_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="LSTMCell: .*units"):
        layers.LSTMCell(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRUCell(3, dropout="high")
    with pytest.raises(ValueError, match="call"):
        layers.RNN(object())
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(type("NoState", (), {"call": lambda self, x, s: (x, s)})())
    with pytest.raises(NotImplementedError, match="stateful"):
        layers.RNN(layers.GRUCell(2), stateful=True)
    with pytest.raises(TypeError, match="unrecognized"):
        layers.RNN(layers.GRUCell(2), bogus=1)
    with pytest.raises(ValueError, match="ndim=3"):
        layers.RNN(layers.GRUCell(2))(rand(2, 3))
    with pytest.raises(ember.ShapeError, match="mask"):
        layers.RNN(layers.GRUCell(2))(rand(2, 3, 1), mask=np.ones((2, 4), bool))


# ---- real Keras 3 on the same weights ------------------------------------------------------------
def _keras_cell(keras, name, units, **kwargs):
    return getattr(keras.layers, name)(units, **kwargs)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("step_path", [False, True], ids=["fused", "steps"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_real_keras(name, step_path, go_backwards):
    keras = real_keras()
    x = rand(3, 6, 4)
    mask = random_mask(3, 6)
    cell = (STEP_CELLS[name] if step_path else CELLS[name][0])(5)
    ours = run_built(cell, x, return_sequences=True, return_state=True,
                     go_backwards=go_backwards)
    weights = randomize(ours)
    theirs = keras.layers.RNN(_keras_cell(keras, name, 5), return_sequences=True,
                              return_state=True, go_backwards=go_backwards)
    theirs(x)
    theirs.set_weights(weights)
    import torch
    mask[2, :2] = False  # leading masked steps, where an initial state shows
    init = [rand(3, 5, seed=20 + i) for i in range(CELLS[name][2])]
    for m, states in ((None, None), (mask, None), (mask, init)):
        want = theirs(x, mask=None if m is None else torch.from_numpy(m),
                      initial_state=None if states is None else
                      [torch.from_numpy(s) for s in states])
        got = ours(x, mask=m, initial_state=states)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.detach().numpy(), to_numpy(w), rtol=1e-5, atol=1e-5)


def test_stacked_cells_match_real_keras():
    keras = real_keras()
    x = rand(2, 5, 3)
    ours = run_built([layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)], x,
                     return_state=True)
    weights = randomize(ours, scale=0.4)
    theirs = keras.layers.RNN([keras.layers.LSTMCell(4), keras.layers.GRUCell(3),
                               keras.layers.SimpleRNNCell(2)], return_state=True)
    theirs(x)
    theirs.set_weights(weights)
    got, want = ours(x), theirs(x)
    assert len(got) == len(want) == 4
    for g, w in zip(got, want):
        g = [t.detach().numpy() for t in g] if isinstance(g, list) else [g.detach().numpy()]
        w = [to_numpy(t) for t in w] if isinstance(w, (list, tuple)) else [to_numpy(w)]
        assert len(g) == len(w)
        for a, b in zip(g, w):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_rnn_of_a_cell_matches_real_keras(return_sequences):
    keras = real_keras()
    import torch
    x = rand(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    ours = layers.Bidirectional(layers.RNN(layers.LSTMCell(4),
                                           return_sequences=return_sequences))
    ours(x)
    weights = randomize(ours)
    theirs = keras.layers.Bidirectional(keras.layers.RNN(keras.layers.LSTMCell(4),
                                                         return_sequences=return_sequences))
    theirs(x)
    theirs.set_weights(weights)
    np.testing.assert_allclose(ours(x, mask=mask).detach().numpy(),
                               to_numpy(theirs(x, mask=torch.from_numpy(mask))),
                               rtol=1e-5, atol=1e-5)


def test_gru_reset_before_matches_real_keras():
    keras = real_keras()
    x = rand(2, 4, 3)
    ours = run_built(layers.GRUCell(4, reset_after=False), x, return_sequences=True)
    weights = randomize(ours)
    theirs = keras.layers.RNN(keras.layers.GRUCell(4, reset_after=False),
                              return_sequences=True)
    theirs(x)
    theirs.set_weights(weights)
    np.testing.assert_allclose(ours(x).detach().numpy(), to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


def test_masking_layer_feeds_rnn_like_real_keras():
    keras = real_keras()
    x = rand(2, 5, 3)
    x[0, 3:] = 0.0
    ours = ek.Sequential([ek.Input((5, 3)), layers.Masking(), layers.RNN(layers.GRUCell(4))])
    theirs = keras.Sequential([keras.Input((5, 3)), keras.layers.Masking(),
                               keras.layers.RNN(keras.layers.GRUCell(4))])
    randomize(ours)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5,
                               atol=1e-6)
