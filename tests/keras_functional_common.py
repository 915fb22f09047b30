"""Pieces shared by the tests of the Keras functional API (test_keras_functional*.py)."""
import numpy as np
import pytest

import ember
from ember import keras


@pytest.fixture(autouse=True)
def fresh_session():
    """Keras' name counters reset (the first Dense is "dense") and ember seeded."""
    keras.utils.clear_session()
    ember.manual_seed(0)


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)
