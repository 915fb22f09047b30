"""float64 finite-difference gradient checks through whole recurrent modules: every mode across
layers x directions x batch_first, for the input, the initial states and every parameter."""
import itertools

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.testing import gradcheck

CASES = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True]))


def _through_module(module, names, with_cell):
    """f(x, h0, [c0,] *params): the module's output and final states, with the given tensors
    standing in for its parameters (so gradcheck can perturb them)."""
    def f(x, h0, *rest):
        c0, params = (rest[0], rest[1:]) if with_cell else (None, rest)
        for name, p in zip(names, params):
            module._parameters[name] = p
        out, state = module(x, (h0, c0) if with_cell else h0)
        states = state if with_cell else (state,)
        return (out,) + tuple(states)
    return f


@pytest.mark.parametrize("kind, layers, bidirectional, batch_first", CASES)
def test_module_gradients_match_finite_differences(kind, layers, bidirectional, batch_first):
    ember.manual_seed(0)
    module = getattr(nn, kind)(3, 2, num_layers=layers, bidirectional=bidirectional,
                               batch_first=batch_first).double()
    steps, batch = 3, 2
    directions = 2 if bidirectional else 1
    rng = np.random.default_rng(1)
    x_shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    x = ember.tensor(rng.standard_normal(x_shape), requires_grad=True)
    h0 = ember.tensor(rng.standard_normal((layers * directions, batch, 2)), requires_grad=True)
    names = [name for name, _ in module.named_parameters()]
    params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True)
              for _, p in module.named_parameters()]
    with_cell = kind == "LSTM"
    inputs = [x, h0]
    if with_cell:
        inputs.append(ember.tensor(rng.standard_normal(h0.shape), requires_grad=True))
    assert gradcheck(_through_module(module, names, with_cell), inputs + params)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_batch_of_one_with_one_step(kind):
    module = getattr(nn, kind)(2, 3).double()
    names = [name for name, _ in module.named_parameters()]
    params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True)
              for _, p in module.named_parameters()]
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)
    h0 = ember.tensor(rng.standard_normal((1, 1, 3)), requires_grad=True)
    inputs = [x, h0] + ([ember.tensor(rng.standard_normal((1, 1, 3)), requires_grad=True)]
                        if kind == "LSTM" else [])
    assert gradcheck(_through_module(module, names, kind == "LSTM"), inputs + params)
