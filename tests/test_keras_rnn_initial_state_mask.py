"""SimpleRNN/LSTM/GRU given an initial_state and a mask: Keras outputs zeros at a sample's
leading masked steps (the output carried over masked steps starts as zeros, not h0), and a
sample with every step masked outputs zeros while its states stay the initial ones."""
import numpy as np
import pytest

import ember
from ember.keras import layers
from ember.testing import gradcheck
from keras_layer_checks import keras_weights
from keras_reference import real_keras, to_numpy

MASK = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [0, 1, 0, 1, 1]], bool)
STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def _data(name, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5, 3)).astype("float32")
    states = [rng.uniform(0.5, 1.5, (4, 2)).astype("float32") for _ in range(STATES[name])]
    return x, states


def _simple_rnn_reference(x, h0, kernel, recurrent, bias, mask, go_backwards):
    """NumPy: Keras' masked SimpleRNN, (outputs in processing order, final h)."""
    h, previous_output, outputs = h0, np.zeros_like(h0), []
    for t in (range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])):
        new_h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        keep = mask[:, t][:, None]
        h = np.where(keep, new_h, h)
        previous_output = np.where(keep, new_h, previous_output)
        outputs.append(previous_output)
    return np.stack(outputs, axis=1), h


@pytest.mark.parametrize("go_backwards", [False, True])
def test_simple_rnn_matches_the_numpy_reference(go_backwards):
    x, (h0,) = _data("SimpleRNN")
    layer = layers.SimpleRNN(2, return_sequences=True, return_state=True,
                             go_backwards=go_backwards)
    layer.build((None, 5, 3))
    weights = [np.random.default_rng(1).uniform(-0.5, 0.5, w.shape).astype("float32")
               for w in layer.get_weights()]
    layer.set_weights(weights)
    outputs, h_n = _simple_rnn_reference(x, h0, *weights, MASK, go_backwards)
    got_outputs, got_h = layer(x, initial_state=[h0], mask=ember.from_numpy(MASK))
    np.testing.assert_allclose(got_outputs.detach().numpy(), outputs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_h.detach().numpy(), h_n, rtol=1e-5, atol=1e-6)
    assert (got_outputs.detach().numpy()[2] == 0).all()  # (every step masked)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_matches_real_keras(name, go_backwards, return_sequences):
    keras = real_keras()
    x, states = _data(name)
    kwargs = dict(return_sequences=return_sequences, return_state=True,
                  go_backwards=go_backwards)
    reference = getattr(keras.layers, name)(2, **kwargs)
    expected = reference(x, initial_state=[keras.ops.convert_to_tensor(s) for s in states],
                         mask=keras.ops.convert_to_tensor(MASK))
    layer = getattr(layers, name)(2, **kwargs)
    layer.build((None, 5, 3))
    layer.set_weights(keras_weights(reference))
    got = layer(x, initial_state=states, mask=ember.from_numpy(MASK))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.detach().numpy(), to_numpy(e), rtol=1e-5, atol=1e-6)


def test_the_keras_rnn_layer_and_the_fused_layers_agree():
    x, states = _data("LSTM")
    lstm = layers.LSTM(2, return_sequences=True)
    lstm.build((None, 5, 3))
    rnn = layers.RNN(layers.LSTMCell(2), return_sequences=True)
    rnn.build((None, 5, 3))
    rnn.set_weights(lstm.get_weights())
    mask = ember.from_numpy(MASK)
    np.testing.assert_allclose(lstm(x, initial_state=states, mask=mask).detach().numpy(),
                               rnn(x, initial_state=states, mask=mask).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_gradients_of_inputs_states_and_weights(name, return_sequences):
    x, states = _data(name, seed=3)
    layer = getattr(layers, name)(2, return_sequences=return_sequences)
    layer.build((None, 5, 3))
    layer.double()
    names = [n for n, p in layer._parameters.items() if p is not None]
    mask = ember.from_numpy(MASK)

    def f(inp, *tensors):
        saved = {n: layer._parameters[n] for n in names}
        layer._parameters.update(zip(names, tensors[len(states):]))
        try:
            return layer(inp, initial_state=list(tensors[:len(states)]), mask=mask)
        finally:
            layer._parameters.update(saved)

    inputs = [ember.from_numpy(x.astype(np.float64)).requires_grad_()]
    inputs += [ember.from_numpy(s.astype(np.float64)).requires_grad_() for s in states]
    inputs += [layer._parameters[n].detach().requires_grad_() for n in names]
    assert gradcheck(f, tuple(inputs), atol=1e-6, rtol=1e-4)
