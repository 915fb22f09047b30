"""Shared checks for Keras-face layer tests: run a layer on NumPy data, and a float64
finite-difference check of a layer's output with respect to its input and every trainable
weight (the layer's own and its sublayers')."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.testing import gradcheck


@pytest.fixture(autouse=True)
def fresh_keras():
    """Import into a test module: each test starts with fresh layer names and seed 0."""
    keras.utils.clear_session()
    ember.manual_seed(0)


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def run(layer, x, training=False, **kwargs):
    """The layer's output on ``x`` (no gradients) as a NumPy array."""
    layer.train(training)
    with ember.no_grad():
        return layer(ember.from_numpy(np.ascontiguousarray(x)), **kwargs).numpy()


def gradcheck_layer(layer, x, **kwargs):
    """d(layer(x)) w.r.t. x and all trainable weights, in float64 (the layer is built first)."""
    x = np.asarray(x, np.float64)
    if not layer.built:
        run(layer, x.astype(np.float32))
    layer.double()
    owners = [layer] + layer._all_sublayers()
    slots = [(owner, name) for owner in owners for name, p in owner._parameters.items()
             if p is not None and p.requires_grad]

    def f(inp, *params):
        saved = [owner._parameters[name] for owner, name in slots]
        for (owner, name), p in zip(slots, params):
            owner._parameters[name] = p
        try:
            return layer(inp, **kwargs)
        finally:
            for (owner, name), p in zip(slots, saved):
                owner._parameters[name] = p

    params = [owner._parameters[name].detach().requires_grad_() for owner, name in slots]
    xt = ember.from_numpy(x).requires_grad_()
    return gradcheck(f, (xt, *params), atol=1e-6, rtol=1e-4)
