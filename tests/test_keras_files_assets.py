"""Adapted vocabularies travel in a .keras zip's assets, where Keras 3 keeps them
(``assets/<layer path>/vocabulary.txt``, special tokens first). (Real Keras' lookup layers need
TensorFlow, which is not installed here, so the files are checked by their layout.)"""
import zipfile

import numpy as np
import pytest

from ember import keras as ek


def _adapted_model():
    lookup = ek.layers.IntegerLookup()
    lookup.adapt(np.array([5, 7, 7, 9, 9, 9]))
    return ek.Sequential([ek.Input((2,), dtype="int32"), lookup])


def test_an_adapted_vocabulary_is_saved_and_restored(tmp_path):
    model = _adapted_model()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        vocabulary = archive.read("assets/layers/integer_lookup/vocabulary.txt").decode()
    assert vocabulary.splitlines() == ["-1", "9", "7", "5"]  # the OOV token, then by count
    loaded = ek.models.load_model(tmp_path / "m.keras")
    x = np.array([[5, 9], [7, 1]], np.int32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].get_vocabulary() == [-1, 9, 7, 5]


def test_a_given_vocabulary_stays_in_the_config(tmp_path):
    model = ek.Sequential([ek.Input((2,), dtype="int32"),
                           ek.layers.IntegerLookup(vocabulary=[3, 4])])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert not [n for n in archive.namelist() if n.startswith("assets/")]
    loaded = ek.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].get_vocabulary() == [-1, 3, 4]


def test_a_vocabulary_that_is_not_integers_is_a_value_error(tmp_path):
    _adapted_model().save(tmp_path / "m.keras")
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(tmp_path / "m.keras") as archive, zipfile.ZipFile(bad, "w") as out:
        for name in archive.namelist():
            out.writestr(name, b"-1\nnine\n" if name.startswith("assets/")
                         else archive.read(name))
    with pytest.raises(ValueError, match="bad.keras.*not an integer"):
        ek.models.load_model(bad)


def test_the_ember_format_refuses_an_adapted_vocabulary_it_would_lose(tmp_path):
    lookup = ek.layers.StringLookup()
    lookup.adapt(np.array(["a", "b", "b", "c"]))
    model = ek.Sequential([ek.Input((1,), dtype="string"), lookup])
    with pytest.raises(NotImplementedError, match="'string_lookup' has an adapted vocabulary"):
        model.save(tmp_path / "m.ember")
    assert not (tmp_path / "m.ember").exists()
    model.save(tmp_path / "m.keras")
    x = np.array([["b"], ["z"]])
    np.testing.assert_array_equal(ek.models.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
