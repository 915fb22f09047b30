"""Strings through models: ``keras.Input(shape=(1,), dtype="string")`` feeding
TextVectorization / StringLookup inside a Functional or Sequential model, with NumPy string
arrays in fit / evaluate / predict / predict_on_batch / model(x) (keras-io's "text
classification from scratch" end-to-end model). Real Keras needs TensorFlow for its text
layers, so the references here are the same steps done outside the model; Keras 3's input
rank adjustment (an input of shape (batch,) for Input(shape=(1,))) is checked against real
Keras on numbers."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_layer_checks import keras_weights
from keras_reference import real_keras, to_numpy

TEXTS = np.array(["good movie", "bad movie", "great film", "awful film", "good film",
                  "bad acting", "great acting", "awful movie"] * 4)
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 4)


def _vectorizer():
    layer = ek.layers.TextVectorization(max_tokens=20, output_sequence_length=3)
    layer.adapt(TEXTS)
    return layer


def _head():
    """The part after the text layer, on integer ids."""
    ids = ek.Input(shape=(3,), dtype="int64")
    x = ek.layers.Embedding(20, 4)(ids)
    x = ek.layers.GlobalAveragePooling1D()(x)
    return ek.Model(ids, ek.layers.Dense(1, activation="sigmoid")(x))


def _end_to_end(vectorizer, head):
    inputs = ek.Input(shape=(1,), dtype="string")
    return ek.Model(inputs, head(vectorizer(inputs)))


def test_string_input_is_a_keras_tensor_of_dtype_string():
    inputs = ek.Input(shape=(1,), dtype="string")
    assert inputs.dtype == "string" and inputs.shape == (None, 1)
    ids = _vectorizer()(inputs)
    assert (ids.shape, ids.dtype) == ((None, 3), "int64")


@pytest.mark.parametrize("shape", ["(batch,)", "(batch, 1)"])
def test_predict_evaluate_and_calls_equal_the_steps_done_outside_the_model(shape):
    vectorizer, head = _vectorizer(), _head()
    model = _end_to_end(vectorizer, head)
    texts = TEXTS if shape == "(batch,)" else TEXTS[:, None]
    expected = head.predict(vectorizer(TEXTS).numpy(), verbose=0)
    np.testing.assert_allclose(model.predict(texts, verbose=0, batch_size=5), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(texts), expected, rtol=1e-6)
    with ember.no_grad():
        np.testing.assert_allclose(model(texts).numpy(), expected, rtol=1e-6)
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    head.compile(loss="binary_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(model.evaluate(texts, LABELS, verbose=0),
                               head.evaluate(vectorizer(TEXTS).numpy(), LABELS, verbose=0),
                               rtol=1e-6)


def test_fit_trains_the_end_to_end_model_as_the_head_on_ids():
    vectorizer = _vectorizer()
    ember.manual_seed(0)
    head = _head()
    ember.manual_seed(0)
    reference = _head()
    model = _end_to_end(vectorizer, head)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    reference.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(TEXTS, LABELS, epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected = reference.fit(vectorizer(TEXTS).numpy(), LABELS, epochs=3, batch_size=8,
                             shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-6)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("with_input", [True, False])
def test_sequential_starting_with_a_text_layer(with_input):
    vectorizer = _vectorizer()
    first = [ek.Input(shape=(1,), dtype="string")] if with_input else []
    model = ek.Sequential(first + [vectorizer, ek.layers.Embedding(20, 4),
                                   ek.layers.GlobalAveragePooling1D(), ek.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(TEXTS, LABELS.astype("float32"), epochs=1, verbose=0)
    ids = vectorizer(TEXTS)
    with ember.no_grad():
        expected = model.layers[-1](model.layers[-2](model.layers[-3](ids))).numpy()
    np.testing.assert_allclose(model.predict(TEXTS, verbose=0), expected, rtol=1e-6)


def test_string_lookup_and_object_arrays():
    inputs = ek.Input(shape=(2,), dtype="string")
    lookup = ek.layers.StringLookup(vocabulary=["a", "b", "c"])
    encoded = ek.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")(lookup(inputs))
    model = ek.Model(inputs, encoded)
    x = np.array([["a", "b"], ["c", "zz"]], dtype=object)  # (Python strings, as from pandas)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  [[0, 1, 1, 0], [1, 0, 0, 1]])


def test_strings_where_numbers_go_and_numbers_where_strings_go_raise():
    inputs = ek.Input(shape=(1,), dtype="string")
    with pytest.raises(TypeError, match="ember Tensors hold no strings"):
        ek.layers.Dense(2)(inputs)
    model = _end_to_end(_vectorizer(), _head())
    with pytest.raises(ValueError, match=r'Input 0 of model "functional.*" \(dtype string\) '
                                         "expects strings"):
        model.predict(np.zeros((2, 1), "float32"), verbose=0)
    dense = ek.Sequential([ek.Input((3,)), ek.layers.Dense(1)])
    with pytest.raises(TypeError, match="ember Tensors hold no strings"):
        dense.predict(np.array([["a", "b", "c"]]), verbose=0)


def test_config_keeps_the_string_input():
    model = _end_to_end(_vectorizer(), _head())
    config = model.get_config()
    assert config["layers"][0]["config"]["dtype"] == "string"
    clone = ek.Model.from_config(config)
    assert clone.inputs[0].dtype == "string"


def _rank_model(lib, shape):
    inputs = lib.Input(shape=shape)
    return lib.Model(inputs, lib.layers.Dense(2)(inputs))


@pytest.mark.parametrize("shape, x_shape", [((1,), (5,)), ((3, 1), (5, 3)), ((3,), (5, 3, 1))])
def test_input_rank_is_adjusted_as_keras_does(shape, x_shape):
    keras = real_keras()
    reference = _rank_model(keras, shape)
    model = _rank_model(ek, shape)
    model.set_weights(keras_weights(reference))
    x = np.random.default_rng(0).standard_normal(x_shape).astype("float32")
    expected = to_numpy(reference(x))
    with ember.no_grad():
        np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    sequential = ek.Sequential([ek.Input(shape), model.layers[-1]])
    np.testing.assert_allclose(sequential.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_inputs_of_other_ranks_still_raise():
    model = _rank_model(ek, (3,))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(5,\)"):
        model.predict(np.zeros(5, "float32"), verbose=0)


@pytest.mark.parametrize("strings", [[["a b c"]], np.array(["a"]), "abc"])
def test_convert_to_tensor_refuses_strings_clearly(strings):
    keras = real_keras()
    with pytest.raises(ValueError):  # (real Keras on torch refuses them too)
        keras.ops.convert_to_tensor(strings)
    with pytest.raises(ValueError, match="ember Tensors hold no strings"):
        ek.ops.convert_to_tensor(strings)
