"""Shared pieces of the Keras-face test files: a fresh session per test and seeded data."""
import numpy as np
import pytest

import ember
from ember import keras


@pytest.fixture(autouse=True)
def fresh_keras_session():
    """Layer names restart ("dense", "dense_1", ...) and ember's generator is seeded."""
    keras.utils.clear_session()
    ember.manual_seed(0)


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)
