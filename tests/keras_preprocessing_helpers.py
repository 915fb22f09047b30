"""Helpers shared by the tests of the Keras preprocessing layers."""
import numpy as np

import ember


def images(*shape, seed=0):
    return np.random.RandomState(seed).rand(*shape).astype(np.float32)


def t64(array):
    """A float64 tensor requiring grad, for gradcheck."""
    return ember.tensor(np.asarray(array, np.float64), dtype=ember.float64, requires_grad=True)


def without_dtype(config):
    """A layer config without the keys ember and real Keras need not share (dtype policy,
    the generated name)."""
    return {k: v for k, v in config.items() if k not in ("dtype", "name")}
