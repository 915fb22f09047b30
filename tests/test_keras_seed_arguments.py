"""A Keras layer's `seed` must be an integer, as Keras checks it (issue 11: a float or an
infinite seed was truncated silently or leaked an OverflowError)."""
import math
import re

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

LAYERS = {
    "Dropout": lambda L, seed: L.Dropout(0.5, seed=seed),
    "SpatialDropout1D": lambda L, seed: L.SpatialDropout1D(0.5, seed=seed),
    "GaussianNoise": lambda L, seed: L.GaussianNoise(0.1, seed=seed),
    "AlphaDropout": lambda L, seed: L.AlphaDropout(0.1, seed=seed),
    "LSTM": lambda L, seed: L.LSTM(2, dropout=0.5, seed=seed),
    "SimpleRNNCell": lambda L, seed: L.SimpleRNNCell(2, dropout=0.5, seed=seed),
    "RandomFlip": lambda L, seed: L.RandomFlip(seed=seed),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("seed", [0.5, math.inf, "abc", [1]])
def test_a_non_integer_seed_is_refused_with_keras_message(name, seed):
    with pytest.raises(ValueError, match=re.escape(f"Argument `seed` must be an integer. "
                                                   f"Received: seed={seed}")):
        LAYERS[name](ek.layers, seed)


@pytest.mark.parametrize("seed", [0.5, math.inf, "abc"])
def test_keras_refuses_the_same_seeds(seed):
    keras = real_keras()
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        keras.layers.Dropout(0.5, seed=seed)(np.ones((2, 3), np.float32), training=True)


def test_an_integer_seed_makes_dropout_repeatable():
    x = np.ones((4, 16), np.float32)
    a = ek.layers.Dropout(0.5, seed=7)(x, training=True)
    b = ek.layers.Dropout(0.5, seed=np.int64(7))(x, training=True)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_initializer_seed_is_checked_too():
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        ek.initializers.GlorotUniform(seed=1.5)((2, 2))
