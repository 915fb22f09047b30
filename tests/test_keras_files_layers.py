"""Every ember layer family through Keras' files: a small model around each, saved by real Keras
3 as ``.keras``, loads into ember and predicts the same (1e-5), and ember's save of it loads
back into real Keras 3 and predicts the same."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy

# (name, input shape, layers(L) -> list of layers); each model is Input(shape) + layers.
CASES = [
    ("activation", (5,), lambda L: [L.Activation("gelu")]),
    ("activity_reg", (5,), lambda L: [L.Dense(3), L.ActivityRegularization(l1=0.1)]),
    ("dense_regularized", (5,), lambda L: [L.Dense(
        3, kernel_regularizer="l2", bias_constraint="non_neg", activation="swish")]),
    ("conv1d", (9, 3), lambda L: [L.Conv1D(4, 3, strides=2, padding="same"),
                                  L.MaxPooling1D(2), L.GlobalAveragePooling1D()]),
    ("conv2d_dilated", (9, 9, 2), lambda L: [L.Conv2D(3, 3, dilation_rate=2),
                                             L.GlobalMaxPooling2D()]),
    ("conv_transpose", (5, 5, 2), lambda L: [L.Conv2DTranspose(3, 3, strides=2),
                                             L.Flatten()]),
    ("conv1d_transpose", (6, 2), lambda L: [L.Conv1DTranspose(3, 3, strides=2)]),
    ("depthwise", (8, 8, 2), lambda L: [L.DepthwiseConv2D(3, depth_multiplier=2)]),
    ("depthwise1d", (8, 2), lambda L: [L.DepthwiseConv1D(3, depth_multiplier=2)]),
    ("separable", (8, 8, 2), lambda L: [L.SeparableConv2D(4, 3, padding="same")]),
    ("separable1d", (8, 2), lambda L: [L.SeparableConv1D(4, 3)]),
    ("pooling", (8, 8, 2), lambda L: [L.AveragePooling2D(2, strides=1), L.MaxPooling2D(3)]),
    ("pooling1d", (8, 2), lambda L: [L.AveragePooling1D(2)]),
    ("normalizations", (6, 4), lambda L: [L.LayerNormalization(), L.GroupNormalization(2),
                                          L.UnitNormalization()]),
    ("batchnorm_axis", (4, 6), lambda L: [L.BatchNormalization(axis=1)]),
    ("embedding_masked", (7,), lambda L: [L.Embedding(11, 4, mask_zero=True), L.LSTM(3)]),
    ("simple_rnn", (6, 3), lambda L: [L.SimpleRNN(4, return_sequences=True),
                                      L.GRU(3)]),
    ("bidirectional_lstm", (6, 3), lambda L: [L.Bidirectional(L.LSTM(2), merge_mode="sum")]),
    ("rnn_cells", (6, 3), lambda L: [L.RNN(L.StackedRNNCells([L.LSTMCell(3),
                                                              L.GRUCell(2)]))]),
    ("time_distributed", (4, 5), lambda L: [L.TimeDistributed(L.Dense(3))]),
    ("shape_layers", (4, 6), lambda L: [L.Reshape((6, 4)), L.Permute((2, 1)),
                                        L.Cropping1D(1), L.ZeroPadding1D(2),
                                        L.UpSampling1D(2), L.Flatten(), L.RepeatVector(2)]),
    ("shape_layers_2d", (6, 6, 2), lambda L: [L.Cropping2D(1), L.ZeroPadding2D(1),
                                              L.UpSampling2D(2)]),
    ("activations", (5,), lambda L: [L.Dense(4), L.LeakyReLU(0.2), L.PReLU(), L.ELU(),
                                     L.ReLU(max_value=2.0), L.Softmax()]),
    ("noise_and_dropouts", (6, 4), lambda L: [
        L.GaussianNoise(0.1), L.GaussianDropout(0.1), L.AlphaDropout(0.1),
        L.SpatialDropout1D(0.2), L.Masking(0.0), L.Identity()]),
    ("normalization", (4,), lambda L: [L.Normalization(mean=[1.0, 2, 3, 4],
                                                       variance=[1.0, 4, 9, 16])]),
    ("rescaling", (4, 4, 3), lambda L: [L.Rescaling(1 / 255.0, offset=0.5),
                                        L.CenterCrop(2, 2)]),
]


def _inputs(shape, name):
    rng = np.random.RandomState(0)
    if name == "embedding_masked":
        ids = rng.randint(1, 11, (3,) + shape)
        ids[0, 5:] = 0
        return ids.astype(np.int32)
    return rng.rand(3, *shape).astype(np.float32)


def _model(lib, shape, make, name):
    dtype = "int32" if name == "embedding_masked" else "float32"
    return lib.Sequential([lib.Input(shape, dtype=dtype)] + make(lib.layers))


@pytest.mark.parametrize("name, shape, make", CASES, ids=[c[0] for c in CASES])
def test_each_layer_family_goes_both_ways(name, shape, make, tmp_path):
    keras = real_keras()
    x = _inputs(shape, name)
    theirs = _model(keras, shape, make, name)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        theirs.set_weights([w + np.random.RandomState(i).rand(*w.shape).astype(w.dtype) * 0.1
                            for i, w in enumerate(theirs.get_weights())])  # (non-trivial)
        theirs.save(tmp_path / "keras.keras")
        expected = to_numpy(theirs.predict(x, verbose=0))

    ours = ek.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)

    ours.save(tmp_path / "ember.keras")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        back = keras.models.load_model(tmp_path / "ember.keras")
        np.testing.assert_allclose(to_numpy(back.predict(x, verbose=0)), expected, rtol=1e-5,
                                   atol=1e-5)


def test_an_adapted_normalization_keeps_its_statistics(tmp_path):
    keras = real_keras()
    data = np.random.RandomState(1).rand(20, 3).astype(np.float32) * 5
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Normalization()])
    theirs.layers[0].adapt(data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        theirs.save(tmp_path / "keras.keras")
        expected = to_numpy(theirs.predict(data, verbose=0))
    ours = ek.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(ours.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-5)
