"""Keras categorical and text preprocessing layers (NumPy-side): StringLookup, IntegerLookup,
CategoryEncoding, Hashing and TextVectorization against the outputs Keras documents for them,
NumPy references of adapt (vocabulary order, ties, max_tokens, tf-idf), real Keras where it
runs without TensorFlow (CategoryEncoding; the others need TensorFlow and skip without it),
configs, errors, and a TextVectorization -> Embedding -> GlobalAveragePooling1D -> Dense
classifier trained with fit."""
import math
import sys

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_layer_checks import fresh_keras  # noqa: F401 (autouse)
from keras_preprocessing_helpers import without_dtype as _without_dtype
from keras_reference import real_keras, to_numpy

L = ek.layers
VOCAB = ["a", "b", "c", "d"]
INTS = [12, 36, 1138, 42]


def _np(tensor):
    return tensor.numpy() if isinstance(tensor, ember.Tensor) else np.asarray(tensor)


# ---- StringLookup and IntegerLookup: Keras' documented examples -------------------------------
def test_string_lookup_documented_outputs():
    data = [["a", "c", "d"], ["d", "z", "b"]]
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB)(data)),
                                  [[1, 3, 4], [4, 0, 2]])
    assert L.StringLookup(vocabulary=VOCAB)(data).dtype == ember.int64
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(
        np.array(["a", "b", "c", "d", "z"]))), np.eye(5)[[1, 2, 3, 4, 0]])
    data4 = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB,
                                                     output_mode="multi_hot")(data4)),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(_np(L.StringLookup(vocabulary=VOCAB, output_mode="count")(
        data4)), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    idf = [0.25, 0.75, 0.6, 0.4]
    np.testing.assert_allclose(_np(L.StringLookup(vocabulary=VOCAB, output_mode="tf_idf",
                                                  idf_weights=idf)(data4)),
                               [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(_np(L.StringLookup(vocabulary=["[UNK]"] + VOCAB,
                                                  output_mode="tf_idf",
                                                  idf_weights=[0.9] + idf)(data4)),
                               [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)
    inverse = L.StringLookup(vocabulary=VOCAB, invert=True)([[1, 3, 4], [4, 0, 2]])
    np.testing.assert_array_equal(inverse, [["a", "c", "d"], ["d", "[UNK]", "b"]])


def test_string_lookup_adapt_orders_by_count_then_token_descending():
    layer = L.StringLookup()
    layer.adapt(np.array([["a", "c", "d"], ["d", "z", "b"]]))
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    corpus = "the cat and the hat and the bat sat on the mat".split()
    layer = L.StringLookup(max_tokens=5, mask_token="[MASK]")
    layer.adapt(corpus)
    counts = {t: corpus.count(t) for t in set(corpus)}
    expected = sorted(counts, key=lambda t: (counts[t], t), reverse=True)[:3]
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]"] + expected
    assert layer.get_vocabulary(include_special_tokens=False) == expected
    assert layer.vocabulary_size() == 5
    np.testing.assert_array_equal(_np(layer(["the", "[MASK]", "zebra", "and"])), [2, 0, 1, 3])


def test_string_lookup_mask_oov_and_bytes():
    layer = L.StringLookup(vocabulary=VOCAB, mask_token="", num_oov_indices=0)
    np.testing.assert_array_equal(_np(layer(np.array([[b"a", b""], [b"d", b"c"]]))),
                                  [[1, 0], [4, 3]])
    assert layer.get_vocabulary() == ["", "a", "b", "c", "d"]
    with pytest.raises(ValueError, match="found OOV values \\['z'\\]"):
        layer(["a", "z"])
    multi = L.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    np.testing.assert_array_equal(_np(multi([["a", ""], ["", ""]])),
                                  [[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]])  # masks encode nothing


def test_string_lookup_several_oov_indices_hash_like_keras():
    pytest.importorskip("farmhash")
    layer = L.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    np.testing.assert_array_equal(_np(layer([["a", "c", "d"], ["m", "z", "b"]])),
                                  [[2, 4, 5], [0, 1, 3]])


def test_integer_lookup_documented_outputs():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=INTS)(data)),
                                  [[1, 3, 4], [4, 0, 2]])
    layer = L.IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(_np(layer(data)), [[5, 2, 1], [1, 3, 4]])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=INTS, num_oov_indices=2)(
        np.array([[12, 1138, 42], [37, 1000, 36]]))), [[2, 4, 5], [1, 0, 3]])
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=[10, 20, 30],
                                                      num_oov_indices=4)(oov)), [0] * 6)
    np.testing.assert_array_equal(_np(L.IntegerLookup(vocabulary=INTS, output_mode="count")(
        np.array([[12, 1138, 42, 42], [42, 7, 36, 7]]))), [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    inverse = L.IntegerLookup(vocabulary=INTS, invert=True)(np.array([[1, 3, 4], [4, 0, 2]]))
    np.testing.assert_array_equal(_np(inverse), [[12, 1138, 42], [42, -1, 36]])
    masked = L.IntegerLookup(vocabulary=INTS, mask_token=0)
    assert masked.get_vocabulary() == [0, -1, 12, 36, 1138, 42]
    np.testing.assert_array_equal(_np(masked(np.array([12, 0, 5]))), [2, 0, 1])


def test_integer_lookup_farmhash_oov_method_matches_keras_docs():
    pytest.importorskip("farmhash")
    layer = L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    np.testing.assert_array_equal(_np(layer(np.array([100, 300, 700, 1100, 1700, 2000]))),
                                  [3, 3, 2, 2, 0, 1])


def test_lookup_tf_idf_adapt_matches_the_formula():
    documents = np.array([["a", "b", "a"], ["b", "c", "c"], ["a", "a", "d"]])
    layer = L.StringLookup(output_mode="tf_idf")
    layer.adapt(documents)
    vocab = layer.get_vocabulary()
    assert vocab == ["[UNK]", "a", "c", "b", "d"]
    doc_counts = {"a": 2, "b": 2, "c": 1, "d": 1}
    idf = np.array([math.log(1 + 3 / (1 + doc_counts[t])) for t in vocab[1:]])
    idf = np.concatenate([[idf.mean()], idf])
    counts = np.array([[0, 2, 0, 1, 0]], np.float32)
    np.testing.assert_allclose(_np(layer([["a", "b", "a"]])), counts * idf, rtol=1e-6)
    padded = L.StringLookup(output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True)
    padded.adapt(documents)
    assert _np(padded([["a", "q"]])).shape == (1, 8)


def test_lookup_configs_round_trip_and_errors():
    layer = L.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="int")
    clone = L.StringLookup.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary()
    config = L.IntegerLookup(vocabulary=np.array(INTS), num_oov_indices=2).get_config()
    assert config["vocabulary"] == INTS and config["oov_token"] == -1
    with pytest.raises(ValueError, match="repeated term"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="`max_tokens` must be greater than 1"):
        L.StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match="must be `'int'` when `invert`"):
        L.StringLookup(vocabulary=VOCAB, invert=True, output_mode="count")
    with pytest.raises(ValueError, match="idf_weights"):
        L.StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        L.StringLookup(vocabulary=VOCAB).adapt(["a"])
    with pytest.raises(ValueError, match="larger than the maximum"):
        L.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="reserved mask token"):
        L.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary"):
        L.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(NotImplementedError, match="sparse"):
        L.StringLookup(sparse=True)
    with pytest.raises(ValueError, match="inputs must be strings"):
        L.StringLookup(vocabulary=VOCAB)(np.array([1.5]))
    with pytest.raises(ValueError, match="inputs must be integers"):
        L.IntegerLookup(vocabulary=INTS)(np.array([1.5]))
    with pytest.raises(ValueError, match="`salt` can only be used"):
        L.IntegerLookup(salt=3)


# ---- CategoryEncoding --------------------------------------------------------------------------
CATEGORY_CASES = {
    "one_hot": ("one_hot", np.array([3, 2, 0, 1])),
    "one_hot_column": ("one_hot", np.array([[3], [1]])),
    "multi_hot": ("multi_hot", np.array([[0, 1], [0, 0], [1, 2], [3, 1]])),
    "multi_hot_vector": ("multi_hot", np.array([3, 1])),
    "count": ("count", np.array([[0, 1], [0, 0], [1, 2], [3, 1]])),
}


@pytest.mark.parametrize("case", CATEGORY_CASES.values(), ids=CATEGORY_CASES.keys())
def test_category_encoding_matches_keras(case):
    mode, data = case
    out = _np(L.CategoryEncoding(num_tokens=4, output_mode=mode)(data))
    keras = real_keras()
    ref = to_numpy(keras.layers.CategoryEncoding(num_tokens=4, output_mode=mode)(data))
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == np.float32


def test_category_encoding_count_weights_shapes_config_and_errors():
    data = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    out = _np(L.CategoryEncoding(4, "count")(data, count_weights=weights))
    np.testing.assert_allclose(out, [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0],
                                     [0, 0.2, 0, 0.4]], rtol=1e-6)
    keras = real_keras()
    ref = keras.layers.CategoryEncoding(4, "count")(data, count_weights=weights)
    np.testing.assert_allclose(out, to_numpy(ref), rtol=1e-6)
    layer = L.CategoryEncoding(4, "one_hot")
    assert layer.compute_output_shape((None, 1)) == (None, 4)
    assert layer.compute_output_shape((None, 3)) == (None, 3, 4)
    assert _without_dtype(layer.get_config()) == \
        _without_dtype(keras.layers.CategoryEncoding(4, "one_hot").get_config())
    with pytest.raises(ValueError, match=r"range \[0, num_tokens=4\)"):
        L.CategoryEncoding(4)(np.array([[1, 4]]))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        L.CategoryEncoding()
    with pytest.raises(ValueError, match="Unknown arg for output_mode"):
        L.CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights"):
        L.CategoryEncoding(3, "multi_hot")(np.array([1]), count_weights=np.array([1.0]))


# ---- Hashing -----------------------------------------------------------------------------------
LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


def test_hashing_with_salt_matches_keras_docs_without_dependencies():
    np.testing.assert_array_equal(_np(L.Hashing(num_bins=3, salt=[133, 137])(LETTERS)).ravel(),
                                  [1, 2, 1, 0, 2])
    np.testing.assert_array_equal(_np(L.Hashing(num_bins=3, salt=133)(LETTERS)).ravel(),
                                  [0, 0, 2, 1, 0])


def test_hashing_farmhash_matches_keras_docs():
    pytest.importorskip("farmhash")
    np.testing.assert_array_equal(_np(L.Hashing(num_bins=3)(LETTERS)).ravel(), [1, 0, 1, 1, 2])
    out = L.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])
    np.testing.assert_array_equal(_np(out).ravel(), [1, 1, 0, 2, 2])
    ints = L.Hashing(num_bins=5)(np.array([[7], [123]]))
    strings = L.Hashing(num_bins=5)([["7"], ["123"]])
    np.testing.assert_array_equal(_np(ints), _np(strings))  # integers hash as their strings
    multi = L.Hashing(num_bins=3, output_mode="multi_hot")([["A", "B"], ["C", "D"]])
    np.testing.assert_array_equal(_np(multi), [[1, 1, 0], [0, 1, 0]])


def test_hashing_without_farmhash_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "farmhash", None)
    with pytest.raises(ImportError, match=r'pip install "ember\[text\]"'):
        L.Hashing(num_bins=3)(LETTERS)
    np.testing.assert_array_equal(_np(L.Hashing(num_bins=3, salt=133)(LETTERS)).ravel(),
                                  [0, 0, 2, 1, 0])  # the salted hash needs nothing


def test_hashing_config_and_errors():
    config = L.Hashing(num_bins=4, salt=7, mask_value="").get_config()
    assert config["salt"] == [7, 7] and config["num_bins"] == 4
    assert L.Hashing.from_config(config).get_config() == {**config,
                                                          "name": config["name"]}
    with pytest.raises(ValueError, match="num_bins"):
        L.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt"):
        L.Hashing(num_bins=3, salt="x")
    with pytest.raises(ValueError, match="strings or integers"):
        L.Hashing(num_bins=3, salt=1)(np.array([1.5]))


# ---- TextVectorization -------------------------------------------------------------------------
def test_text_vectorization_documented_outputs():
    layer = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    np.testing.assert_array_equal(_np(layer([["foo qux bar"], ["qux baz"]])),
                                  [[4, 1, 3, 0], [1, 2, 0, 0]])
    given = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4,
                                vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_text_vectorization_standardize_split_ngrams_and_padding():
    layer = L.TextVectorization(ngrams=2)
    layer.adapt(["The cat, the HAT.", "the cat sat"])
    vocab = layer.get_vocabulary()
    # counts: the 3, cat 2, the cat 2, hat 1, sat 1, cat the 1, the hat 1, cat sat 1
    assert vocab == ["", "[UNK]", "the", "the cat", "cat", "the hat", "sat", "hat", "cat the",
                     "cat sat"]
    out = _np(layer(["THE cat!", "dog"]))  # padded to the longest row
    index = {t: i for i, t in enumerate(vocab)}
    np.testing.assert_array_equal(out, [[index["the"], index["cat"], index["the cat"]],
                                        [1, 0, 0]])
    chars = L.TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(_np(chars(["cab", "Ab"])), [[3, 2, 4], [1, 4, 0]])
    upper = L.TextVectorization(standardize="lower")
    upper.adapt(["ÉCOLE École"])  # TensorFlow lower-cases ASCII letters only
    assert upper.get_vocabulary()[2:] == ["École"]
    custom = L.TextVectorization(standardize=lambda s: np.char.replace(s, "x", "y"))
    custom.adapt(["xa ya"])
    assert custom.get_vocabulary() == ["", "[UNK]", "ya"]


def test_text_vectorization_bag_of_words_modes():
    corpus = ["red green blue", "green green", "blue sky"]
    multi = L.TextVectorization(output_mode="multi_hot")
    multi.adapt(corpus)
    vocab = multi.get_vocabulary()
    assert vocab == ["[UNK]", "green", "blue", "sky", "red"]  # no "" in non-int modes
    np.testing.assert_array_equal(_np(multi(["green sky pink", "red red"])),
                                  [[1, 1, 0, 1, 0], [0, 0, 0, 0, 1]])
    count = L.TextVectorization(output_mode="count", max_tokens=4, pad_to_max_tokens=True)
    count.adapt(corpus)
    np.testing.assert_array_equal(_np(count(["green green red"])), [[1, 2, 0, 0]])
    tfidf = L.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(corpus)
    df = {"green": 2, "blue": 2, "sky": 1, "red": 1}
    idf = [math.log(1 + 3 / (1 + df[t])) for t in ["green", "blue", "sky", "red"]]
    idf = [float(np.mean(np.float32(idf)))] + idf
    np.testing.assert_allclose(_np(tfidf(["green green pink"])),
                               [[idf[0], 2 * idf[1], 0, 0, 0]], rtol=1e-6)


def test_text_vectorization_config_round_trip_and_errors():
    layer = L.TextVectorization(max_tokens=10, ngrams=(1, 2), output_sequence_length=3,
                                vocabulary=["x", "y"])
    config = layer.get_config()
    assert config["ngrams"] == (1, 2) and config["vocabulary_size"] == 4
    clone = L.TextVectorization.from_config({**config, "ngrams": [1, 2]})
    np.testing.assert_array_equal(_np(clone(["x y z"])), _np(layer(["x y z"])))
    with pytest.raises(ValueError, match="output_sequence_length"):
        L.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ngrams"):
        L.TextVectorization(ngrams="2")
    with pytest.raises(ValueError, match="standardize"):
        L.TextVectorization(standardize="upper")
    with pytest.raises(NotImplementedError, match="ragged"):
        L.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        L.TextVectorization(vocabulary=["x"])(np.array([["x", "y"]]))


def test_text_layers_match_real_keras_when_tensorflow_is_installed():
    pytest.importorskip("tensorflow")  # Keras' lookup and text layers run on TensorFlow
    keras = real_keras()
    corpus = ["The quick brown fox", "the lazy dog, the end", "quick quick fox!"]
    for kwargs in ({}, {"max_tokens": 6, "output_sequence_length": 5},
                   {"ngrams": 2, "output_mode": "tf_idf"}):
        ours, theirs = L.TextVectorization(**kwargs), keras.layers.TextVectorization(**kwargs)
        ours.adapt(corpus)
        theirs.adapt(corpus)
        assert ours.get_vocabulary() == theirs.get_vocabulary()
        np.testing.assert_allclose(_np(ours(corpus)), to_numpy(theirs(corpus)), rtol=1e-5)


# ---- a text classifier trained with fit --------------------------------------------------------
def test_text_classifier_trains_on_vectorized_text():
    rng = np.random.RandomState(0)
    good, bad, filler = ["great", "fine", "lovely"], ["awful", "bad", "poor"], ["movie", "the"]
    texts, labels = [], []
    for i in range(200):
        label = i % 2
        words = list(rng.choice(good if label else bad, 2)) + list(rng.choice(filler, 3))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    vectorize = L.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(texts)
    x = _np(vectorize(texts))
    y = np.array(labels, np.float32)
    model = ek.Sequential([L.Embedding(vectorize.vocabulary_size(), 8),
                           L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95
    test = _np(vectorize(["lovely movie", "awful the movie"]))
    predictions = model.predict(test, verbose=0).ravel()
    assert predictions[0] > 0.5 > predictions[1]


def test_integer_lookup_and_category_encoding_inside_a_model_trained_with_fit():
    x = np.random.RandomState(0).choice([10, 20, 30, 40], (64, 1))
    y = (x[:, 0] >= 30).astype(np.float32)
    model = ek.Sequential([ek.Input((1,)),
                           L.IntegerLookup(vocabulary=[10, 20, 30, 40], output_mode="one_hot"),
                           L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=ek.optimizers.Adam(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, verbose=0)  # fit feeds float32 batches
    assert history.history["accuracy"][-1] == 1.0
    predictions = model.predict(np.array([[10], [40]]), verbose=0).ravel()
    assert predictions[0] < 0.5 < predictions[1]
    ids = np.array([[1, 2], [3, 4]])
    encoded = ek.Sequential([ek.Input((2,)), L.CategoryEncoding(5), L.Dense(1)])
    encoded.compile(optimizer="sgd", loss="mse")
    encoded.fit(ids, np.array([1.0, 0.0]), epochs=2, verbose=0)
    np.testing.assert_array_equal(_np(encoded.layers[0](ids)), [[0, 1, 1, 0, 0], [0, 0, 0, 1, 1]])
