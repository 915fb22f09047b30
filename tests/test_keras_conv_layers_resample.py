"""keras.layers.UpSampling1D/2D and Cropping1D/2D: NumPy references, real Keras 3, both data
formats, float64 gradients, config round trips, errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers

from keras_layer_checks import fresh_keras  # noqa: F401 (an autouse fixture)
from keras_layer_checks import (assert_config_round_trip, assert_matches_real_keras,
                                gradcheck_layer, rand, run, weight_names)


def bilinear_ref(x, size):
    """(N, H, W, C) resized by integer factors with half-pixel centres (TF2 / Keras resize):
    source = (dst + 0.5) / scale - 0.5, clamped at the edges."""
    out = x.astype(np.float64)
    for axis, scale in ((1, size[0]), (2, size[1])):
        n = out.shape[axis]
        src = np.clip((np.arange(n * scale) + 0.5) / scale - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(out.ndim)])
        out = np.take(out, lo, axis) * (1 - frac) + np.take(out, hi, axis) * frac
    return out


@pytest.mark.parametrize("size", [(2, 2), (3, 1), (1, 4)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_up_sampling2d_matches_numpy_and_real_keras(size, interpolation):
    x = rand(2, 3, 4, 5, seed=1)
    layer = layers.UpSampling2D(size, interpolation=interpolation)
    out = run(layer, x)
    if interpolation == "nearest":
        expected = x.repeat(size[0], axis=1).repeat(size[1], axis=2)
    else:
        expected = bilinear_ref(x, size)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert_matches_real_keras(layer, lambda keras: keras.layers.UpSampling2D(
        size, interpolation=interpolation), x)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_up_sampling2d_channels_first(interpolation):
    x = rand(2, 3, 4, 5, seed=2)
    first = layers.UpSampling2D((2, 3), data_format="channels_first",
                                interpolation=interpolation)
    last = layers.UpSampling2D((2, 3), interpolation=interpolation)
    out = run(first, x)
    np.testing.assert_allclose(out, np.moveaxis(run(last, np.moveaxis(x, 1, -1)), -1, 1),
                               atol=1e-6)
    assert out.shape == (2, 3, 8, 15)
    assert_matches_real_keras(first, lambda keras: keras.layers.UpSampling2D(
        (2, 3), data_format="channels_first", interpolation=interpolation), x)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_up_sampling1d_matches_numpy_and_real_keras(size):
    x = rand(2, 4, 3, seed=3)
    layer = layers.UpSampling1D(size)
    np.testing.assert_array_equal(run(layer, x), x.repeat(size, axis=1))
    assert_matches_real_keras(layer, lambda keras: keras.layers.UpSampling1D(size), x)


CROPS_2D = [1, (1, 2), ((0, 1), (2, 0)), ((1, 1), (0, 0)), ((0, 0), (0, 0)), [[2, 0], [1, 1]]]


@pytest.mark.parametrize("cropping", CROPS_2D)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping2d_matches_numpy_and_real_keras(cropping, data_format):
    x = rand(2, 4, 5, 6, seed=4)
    layer = layers.Cropping2D(cropping, data_format=data_format)
    (t, b), (lft, r) = layer.cropping
    if data_format == "channels_last":
        expected = x[:, t:4 - b, lft:5 - r]
    else:
        expected = x[:, :, t:5 - b, lft:6 - r]
    np.testing.assert_array_equal(run(layer, x), expected)
    assert_matches_real_keras(layer, lambda keras: keras.layers.Cropping2D(
        cropping, data_format=data_format), x)


@pytest.mark.parametrize("cropping", [1, (0, 2), (2, 0), (1, 3)])
def test_cropping1d_matches_numpy_and_real_keras(cropping):
    x = rand(2, 6, 3, seed=5)
    layer = layers.Cropping1D(cropping)
    start, end = (cropping, cropping) if isinstance(cropping, int) else cropping
    np.testing.assert_array_equal(run(layer, x), x[:, start:6 - end])
    assert_matches_real_keras(layer, lambda keras: keras.layers.Cropping1D(cropping), x)


@pytest.mark.parametrize("make,shape", [
    (lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 2, 2)),
    (lambda: layers.UpSampling2D(2, data_format="channels_first"), (2, 2, 3, 2)),
    (lambda: layers.UpSampling1D(3), (2, 3, 2)),
    (lambda: layers.Cropping2D(((1, 0), (0, 1)), data_format="channels_first"), (2, 2, 3, 3)),
    (lambda: layers.Cropping1D((1, 1)), (2, 4, 2)),
])
def test_gradients(make, shape):
    layer = make()
    assert gradcheck_layer(layer, rand(*shape, seed=6))
    assert weight_names(layer) == []


@pytest.mark.parametrize("make", [
    lambda: layers.UpSampling2D((2, 1), data_format="channels_first", interpolation="Bilinear"),
    lambda: layers.UpSampling1D(4), lambda: layers.Cropping1D(2),
    lambda: layers.Cropping2D(((1, 0), (0, 2)), data_format="channels_first")])
def test_config_round_trip_and_output_shape(make):
    layer = make()
    x = rand(2, 5, 6, 3) if isinstance(layer, (layers.UpSampling2D, layers.Cropping2D)) \
        else rand(2, 5, 3)
    assert_config_round_trip(layer, x)
    assert tuple(layer.compute_output_shape(x.shape)) == run(layer, x).shape


def test_config_keys_equal_real_keras():
    from keras_reference import real_keras
    keras = real_keras()
    for name, args in [("UpSampling2D", ((2, 3),)), ("UpSampling1D", (3,)),
                       ("Cropping1D", ((1, 2),)), ("Cropping2D", (((1, 2), (0, 1)),))]:
        ours = getattr(layers, name)(*args).get_config()
        theirs = getattr(keras.layers, name)(*args).get_config()
        assert set(theirs) - set(ours) <= {"dtype"}, name
        for key in set(theirs) - {"name", "dtype", "trainable"}:
            assert ours[key] == theirs[key], (name, key)


def test_compute_output_shape_with_unknown_sizes():
    assert layers.UpSampling2D((2, 3)).compute_output_shape((None, None, 4, 2)) == \
        (None, None, 12, 2)
    assert layers.Cropping2D(1).compute_output_shape((None, 5, None, 2)) == (None, 3, None, 2)
    assert layers.Cropping1D(1).compute_output_shape((None, None, 2)) == (None, None, 2)
    assert layers.UpSampling1D(2).compute_output_shape((3, 4, 2)) == (3, 8, 2)


def test_autoencoder_with_up_sampling_and_cropping_trains():
    # keras-io style: a conv encoder, then UpSampling2D + Conv2DTranspose back to 8x8.
    (x, _), _ = ember.datasets.load_digits()
    x = (x.reshape(-1, 8, 8, 1) / 16).astype(np.float32)[:256]
    ember.manual_seed(0)
    model = ek.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.UpSampling2D(2, interpolation="bilinear"),
        layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
        layers.ZeroPadding2D(1),
        layers.Cropping2D(1),
        layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    model.compile(optimizer=ek.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, x, epochs=15, batch_size=32, verbose=0)
    losses = history.history["loss"]
    # Below the error of predicting every digit's mean image: it learned to reconstruct.
    mean_image_mse = float(((x - x.mean(axis=0)) ** 2).mean())
    assert losses[-1] < 0.5 * losses[0] and losses[-1] < mean_image_mse, \
        (losses, mean_image_mse)
    assert model.predict(x[:4], verbose=0).shape == (4, 8, 8, 1)


@pytest.mark.parametrize("make,error,message", [
    (lambda: layers.UpSampling1D(0), ValueError, "UpSampling1D: size should be a positive"),
    (lambda: layers.UpSampling1D(2.0), TypeError, "UpSampling1D: expected an integer"),
    (lambda: layers.UpSampling1D((2,)), TypeError, "UpSampling1D: expected an integer"),
    (lambda: layers.UpSampling2D((2, 0)), ValueError, "UpSampling2D: size must be positive"),
    (lambda: layers.UpSampling2D(data_format="NHWC"), ValueError, "UpSampling2D: data_format"),
    (lambda: layers.UpSampling2D(interpolation="cubic"), ValueError,
     "UpSampling2D: interpolation must be one of"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), NotImplementedError,
     "UpSampling2D: interpolation='bicubic' is not supported"),
    (lambda: layers.Cropping1D(-1), ValueError, "Cropping1D: cropping must be non-negative"),
    (lambda: layers.Cropping1D((1, 2, 3)), ValueError, "Cropping1D: cropping must be"),
    (lambda: layers.Cropping2D((1, 2, 3)), ValueError, "Cropping2D: cropping should be either"),
    (lambda: layers.Cropping2D(((1, -1), 0)), ValueError, "Cropping2D: 1st entry of cropping"),
    (lambda: layers.Cropping2D(-2), ValueError, "Cropping2D: cropping must be non-negative"),
    (lambda: layers.Cropping2D(1, data_format="NCHW"), ValueError, "Cropping2D: data_format"),
    (lambda: layers.Cropping2D(1, foo=1), TypeError, "unrecognized keyword arguments"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_name_the_layer_and_shape():
    with pytest.raises(ember.ShapeError, match=r'Cropping2D "c".*smaller.*\(1, 4, 3, 2\)'):
        layers.Cropping2D(((1, 1), (1, 2)), name="c")(np.zeros((1, 4, 3, 2), np.float32))
    with pytest.raises(ember.ShapeError, match=r'Cropping1D "c1".*\(1, 3, 2\)'):
        layers.Cropping1D((2, 1), name="c1")(np.zeros((1, 3, 2), np.float32))
    with pytest.raises(ValueError, match=r"Cropping1D.*smaller"):
        layers.Cropping1D((2, 1)).compute_output_shape((None, 3, 2))
    with pytest.raises(ember.ShapeError, match=r'UpSampling2D "u": expected input of 4 '
                                               r"dimensions.*\(2, 3, 4\)"):
        layers.UpSampling2D(name="u")(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r"UpSampling1D.*3 dimensions.*\(2, 3\)"):
        layers.UpSampling1D()(np.zeros((2, 3), np.float32))
