"""Keras masks as tensor attributes (``x._keras_mask``), eager and symbolic: the keras-io guide
"Understanding masking & padding" (Keras 3 version) step by step, each result compared with
real Keras 3 on the same inputs and weights."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_layer_checks import keras_weights
from keras_reference import real_keras, to_numpy

PADDED = np.array([[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0],
                   [83, 91, 1, 645, 1253, 927]], dtype="int32")


def _np(x):
    return to_numpy(x) if hasattr(x, "detach") else np.asarray(x.numpy())


def test_embedding_and_masking_outputs_carry_their_masks():
    keras = real_keras()
    expected = PADDED != 0
    for lib, to_array in ((ek, _np), (keras, to_numpy)):
        out = lib.layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(PADDED)
        np.testing.assert_array_equal(to_array(out._keras_mask), expected)
        floats = lib.ops.cast(lib.ops.tile(lib.ops.expand_dims(PADDED, axis=-1), [1, 1, 10]),
                              dtype="float32")
        masked = lib.layers.Masking()(floats)
        np.testing.assert_array_equal(to_array(masked._keras_mask), expected)
        assert str(masked._keras_mask.dtype).endswith("bool")


def test_a_tensor_without_mask_has_no_attribute_and_the_attribute_can_be_set():
    x = ek.ops.ones((2, 3))
    assert not hasattr(x, "_keras_mask")  # (as a torch tensor under Keras)
    mask = ek.ops.convert_to_tensor(np.array([[True, False, True]] * 2))
    x._keras_mask = mask
    assert x._keras_mask is mask
    lstm = ek.layers.LSTM(2)
    lstm(ek.ops.ones((2, 3, 1)))  # (built)
    y = ek.layers.Identity()(x)
    assert y._keras_mask is mask  # a layer that supports masking passes the attribute on
    x._keras_mask = None
    assert not hasattr(x, "_keras_mask")


class _TemporalSplit:
    """The guide's TemporalSplit for a given keras module (ember's or the real one)."""

    @staticmethod
    def make(lib):
        class TemporalSplit(lib.layers.Layer):
            def call(self, inputs):
                return lib.ops.split(inputs, 2, axis=1)

            def compute_mask(self, inputs, mask=None):
                if mask is None:
                    return None
                return lib.ops.split(mask, 2, axis=1)
        return TemporalSplit()


def test_a_layer_with_compute_mask_splits_the_mask_of_each_output():
    keras = real_keras()
    floats = np.repeat(PADDED[..., None], 10, axis=-1).astype("float32")
    for lib, to_array in ((ek, _np), (keras, to_numpy)):
        masked = lib.layers.Masking()(floats)
        first, second = _TemporalSplit.make(lib)(masked)
        np.testing.assert_array_equal(to_array(first._keras_mask), PADDED[:, :3] != 0)
        np.testing.assert_array_equal(to_array(second._keras_mask), PADDED[:, 3:] != 0)


def _my_activation(lib):
    class MyActivation(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True  # (an instance attribute, as in the guide)

        def call(self, inputs):
            return lib.ops.relu(inputs)
    return MyActivation()


def _masked_lstm_model(lib):
    inputs = lib.Input(shape=(None,), dtype="int32")
    x = lib.layers.Embedding(input_dim=50, output_dim=4, mask_zero=True)(inputs)
    x = _my_activation(lib)(x)
    symbolic_mask = x._keras_mask
    outputs = lib.layers.LSTM(3)(x)
    return lib.Model(inputs, outputs), symbolic_mask


def test_symbolic_tensors_carry_masks_through_a_custom_supports_masking_layer():
    keras = real_keras()
    model, mask = _masked_lstm_model(ek)
    reference, reference_mask = _masked_lstm_model(keras)
    assert isinstance(mask, ek.KerasTensor)
    assert (mask.shape, mask.dtype) == (tuple(reference_mask.shape), reference_mask.dtype)
    model.set_weights(keras_weights(reference))
    tokens = np.array([[3, 7, 0, 0], [0, 0, 5, 9], [1, 2, 3, 4]], dtype="int32")
    # The LSTM skips the padding only if the mask crossed MyActivation.
    np.testing.assert_allclose(_np(model(tokens)), to_numpy(reference(tokens)),
                               rtol=1e-5, atol=1e-6)


def _temporal_softmax_model(lib):
    class TemporalSoftmax(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None  # (also while the functional model is built)
            broadcast_float_mask = lib.ops.expand_dims(lib.ops.cast(mask, "float32"), -1)
            inputs_exp = lib.ops.exp(inputs) * broadcast_float_mask
            inputs_sum = lib.ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = lib.Input(shape=(None,), dtype="int32")
    x = lib.layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = lib.layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    return lib.Model(inputs, outputs)


def test_a_layer_that_requires_a_mask_gets_it_in_the_functional_api():
    keras = real_keras()
    model, reference = _temporal_softmax_model(ek), _temporal_softmax_model(keras)
    model.set_weights(keras_weights(reference))
    tokens = np.random.default_rng(0).integers(0, 10, size=(4, 12)).astype("int32")
    with np.errstate(invalid="ignore"):  # (masked steps are 0 / 0, NaN in both)
        got = _np(model(tokens))
    expected = to_numpy(reference(tokens))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.isnan(got[tokens == 0]).all() and not np.isnan(got[tokens != 0]).any()


def test_model_outputs_carry_the_mask_of_their_last_layer():
    keras = real_keras()
    tokens = np.array([[3, 7, 0], [5, 0, 0]], dtype="int32")
    for lib, to_array in ((ek, _np), (keras, to_numpy)):
        inputs = lib.Input(shape=(None,), dtype="int32")
        x = lib.layers.Embedding(input_dim=10, output_dim=2, mask_zero=True)(inputs)
        functional = lib.Model(inputs, lib.layers.LSTM(2, return_sequences=True)(x))
        sequential = lib.Sequential([lib.layers.Embedding(10, 2, mask_zero=True),
                                     lib.layers.Dense(3)])
        for model in (functional, sequential):
            np.testing.assert_array_equal(to_array(model(tokens)._keras_mask), tokens != 0)


def _nested(lib):
    embedding = lib.layers.Embedding(input_dim=10, output_dim=3, mask_zero=True)
    inner_in = lib.Input(shape=(None, 3))
    inner = lib.Model(inner_in, lib.layers.LSTM(2)(inner_in))
    outer_in = lib.Input(shape=(None,), dtype="int32")
    return lib.Model(outer_in, inner(embedding(outer_in)))


def test_a_nested_model_reads_the_mask_of_its_input():
    keras = real_keras()
    tokens = np.array([[3, 7, 0, 0], [0, 5, 9, 1]], dtype="int32")
    model = _nested(ek)
    with warnings.catch_warnings():
        # (Keras 3.15 warns that a nested Functional "does not support masking", yet passes
        # the mask to the layers inside it; ember passes it without the warning)
        warnings.simplefilter("ignore", UserWarning)
        reference = _nested(keras)
        expected = to_numpy(reference(tokens))
    model.set_weights(keras_weights(reference))
    np.testing.assert_allclose(_np(model(tokens)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_a_subclassed_layer_passes_compute_mask_to_lstm(padding):
    keras = real_keras()
    tokens = ek.utils.pad_sequences([[4, 2], [1, 2, 3, 4]], padding=padding)
    results = []
    for lib in (ek, keras):
        class MyLayer(lib.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.embedding = lib.layers.Embedding(input_dim=9, output_dim=3, mask_zero=True)
                self.lstm = lib.layers.LSTM(2)

            def call(self, inputs):
                x = self.embedding(inputs)
                return self.lstm(x, mask=self.embedding.compute_mask(inputs))
        layer = MyLayer()
        layer(tokens)
        results.append(layer)
    layer, reference = results
    layer.set_weights(keras_weights(reference))
    np.testing.assert_allclose(_np(layer(tokens)), to_numpy(reference(tokens)),
                               rtol=1e-5, atol=1e-6)
