"""keras.utils.pad_sequences / keras.preprocessing.sequence.pad_sequences against real Keras."""
import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

SEQUENCES = [[1, 2, 3, 4, 5], [], [7], [8, 9, 10]]
CASES = [
    {}, {"maxlen": 3}, {"maxlen": 3, "truncating": "post"}, {"padding": "post"},
    {"maxlen": 6, "padding": "post", "truncating": "post", "value": -1},
    {"dtype": "float32", "value": 0.5}, {"maxlen": 2, "dtype": "int64"},
]


@pytest.mark.parametrize("kwargs", CASES)
def test_pad_sequences_matches_real_keras(kwargs):
    keras = real_keras()
    want = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    got = ek.utils.pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ek.preprocessing.sequence.pad_sequences(SEQUENCES, **kwargs),
                                  want)


def test_pad_sequences_of_vectors_and_strings():
    keras = real_keras()
    vectors = [np.ones((2, 3)), np.zeros((4, 3))]
    np.testing.assert_array_equal(ek.utils.pad_sequences(vectors, maxlen=3, dtype="float32"),
                                  keras.utils.pad_sequences(vectors, maxlen=3, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        ek.utils.pad_sequences(words, dtype=object, value="<pad>"),
        keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="must be iterable"):
        ek.utils.pad_sequences(5)
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 3"):
        ek.utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="is not compatible with `value`'s type"):
        ek.utils.pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        ek.utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "mid" not understood'):
        ek.utils.pad_sequences([[1]], truncating="mid")
    with pytest.raises(ValueError, match="Shape of sample \\(2,\\) of sequence at position 1"):
        ek.utils.pad_sequences([np.ones((2, 3)), np.ones((2, 2))])
