"""Keras preprocessing layers Rescaling, Normalization (adapt, weights), Resizing and CenterCrop:
NumPy references, real Keras 3 (torch backend) on the same inputs, float64 gradients, configs,
both data formats, saving inside a model, and errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.testing import gradcheck
from keras_layer_checks import fresh_keras  # noqa: F401 (autouse)
from keras_preprocessing_helpers import images as _images, t64 as _t64
from keras_preprocessing_helpers import without_dtype as _without_dtype
from keras_reference import real_keras, to_numpy


def _run(layer, x):
    with ember.no_grad():
        return layer(x).numpy()


# ---- Rescaling ---------------------------------------------------------------------------------
def test_rescaling_matches_numpy_and_keras():
    x = _images(2, 4, 5, 3) * 255
    out = _run(ek.layers.Rescaling(1 / 127.5, offset=-1), x)
    np.testing.assert_allclose(out, x / 127.5 - 1, rtol=1e-6, atol=1e-6)
    assert out.dtype == np.float32
    keras = real_keras()
    ref = to_numpy(keras.layers.Rescaling(1 / 127.5, offset=-1)(x))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_rescaling_per_channel_scale_and_integer_input():
    x = (np.arange(2 * 2 * 2 * 3) % 256).astype(np.uint8).reshape(2, 2, 2, 3)
    layer = ek.layers.Rescaling([1.0, 0.5, 0.25], offset=[0.0, 1.0, 2.0])
    out = _run(layer, x)
    np.testing.assert_allclose(out, x * np.float32([1, 0.5, 0.25]) + np.float32([0, 1, 2]))
    assert out.dtype == np.float32
    keras = real_keras()
    ref = to_numpy(keras.layers.Rescaling([1.0, 0.5, 0.25], offset=[0.0, 1.0, 2.0])(x))
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_rescaling_gradient_and_config():
    layer = ek.layers.Rescaling(0.5, offset=2.0)
    assert gradcheck(lambda t: layer(t), (_t64(_images(2, 3)),))
    config = layer.get_config()
    assert config["scale"] == 0.5 and config["offset"] == 2.0
    clone = ek.layers.Rescaling.from_config(config)
    np.testing.assert_allclose(_run(clone, np.ones((1, 2), np.float32)), [[2.5, 2.5]])
    keras = real_keras()
    assert _without_dtype(keras.layers.Rescaling(0.5, offset=2.0).get_config()) == \
        _without_dtype(config)


def test_rescaling_rejects_non_numbers():
    with pytest.raises(ValueError, match="Rescaling: scale must be a number"):
        ek.layers.Rescaling("half")
    with pytest.raises(TypeError, match="unrecognized keyword"):
        ek.layers.Rescaling(1.0, scal=2)


# ---- Normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, None, (1, -1), 1])
def test_normalization_adapt_matches_numpy_and_keras(axis):
    x = _images(6, 4, 3) * 10 + 3
    layer = ek.layers.Normalization(axis=axis)
    layer.adapt(x)
    keep = () if axis is None else tuple(sorted(a % 3 for a in np.atleast_1d(axis)))
    reduce = tuple(d for d in range(3) if d not in keep)
    mean, var = x.mean(axis=reduce, keepdims=True), x.var(axis=reduce, keepdims=True)
    out = _run(layer, x)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var), rtol=1e-5, atol=1e-5)
    keras = real_keras()
    reference = keras.layers.Normalization(axis=axis)
    reference.adapt(x)
    np.testing.assert_allclose(out, to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
    ours = layer.get_weights()
    theirs = [to_numpy(v.value) for v in reference.weights]  # (get_weights warns on NumPy 2)
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    assert [w.dtype for w in ours] == [w.dtype for w in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert _without_dtype(layer.get_config()) == _without_dtype(reference.get_config())


def test_normalization_adapt_on_batches_equals_adapt_on_the_whole():
    x = _images(10, 3, seed=1) * 5
    whole = ek.layers.Normalization()
    whole.adapt(x)
    batched = ek.layers.Normalization()
    batched.adapt([x[:3], x[3:7], x[7:]])
    generator = ek.layers.Normalization()
    generator.adapt((x[i:i + 4], np.zeros(4)) for i in range(0, 10, 4))  # (x, y) batches
    for layer in (batched, generator):
        for a, b in zip(layer.get_weights()[:2], whole.get_weights()[:2]):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(whole.get_weights()[0], x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(whole.get_weights()[1], x.var(0), rtol=1e-5)


def test_normalization_given_mean_variance_and_invert_match_keras():
    x = _images(4, 3) * 4
    keras = real_keras()
    for kwargs in ({"mean": [1.0, 2.0, 3.0], "variance": [4.0, 5.0, 6.0]},
                   {"mean": 2.0, "variance": 9.0},
                   {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 5.0, 6.0], "invert": True}):
        layer = ek.layers.Normalization(**kwargs)
        out = _run(layer, x)
        np.testing.assert_allclose(out, to_numpy(keras.layers.Normalization(**kwargs)(x)),
                                   rtol=1e-5, atol=1e-6)
        assert layer.get_weights() == []
    mean, var = np.float32([1, 2, 3]), np.float32([4, 5, 6])
    out = _run(ek.layers.Normalization(mean=mean, variance=var, invert=True), x)
    np.testing.assert_allclose(out, mean + x * np.sqrt(var), rtol=1e-6)


def test_normalization_gradient_and_weights_round_trip():
    layer = ek.layers.Normalization()
    layer.adapt(_images(5, 3) * 3)
    assert gradcheck(lambda t: layer(t), (_t64(_images(2, 3, seed=2)),))
    other = ek.layers.Normalization()
    other.build((None, 3))
    other.set_weights(layer.get_weights())
    x = _images(2, 3, seed=3)
    np.testing.assert_allclose(_run(other, x), _run(layer, x), rtol=1e-6)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    layer.trainable = False
    layer.trainable = True
    assert layer.trainable_weights == [] and not any(w.requires_grad for w in layer.weights)
    assert layer.count_params() == 7


def test_normalization_in_a_saved_model(tmp_path):
    x = _images(20, 3) * 7 + 1
    norm = ek.layers.Normalization()
    norm.adapt(x)
    model = ek.Sequential([ek.Input((3,)), norm, ek.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((20, 2), np.float32), epochs=1, verbose=0)
    np.testing.assert_allclose(norm.get_weights()[0], x.mean(0), rtol=1e-5)  # fit leaves it
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        ek.layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        ek.layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    layer = ek.layers.Normalization(axis=3)
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\)"):
        layer.adapt(_images(4, 3))
    layer = ek.layers.Normalization()
    layer.adapt(_images(4, 3))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(_images(4, 5))
    with pytest.raises(ValueError, match=r"received shape \(2, 5\)"):
        layer(_images(2, 5))
    with pytest.raises(ValueError, match="empty iterable"):
        ek.layers.Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        ek.layers.Normalization().adapt(3.0)


# ---- Resizing ----------------------------------------------------------------------------------
def _bilinear_reference(image, height, width):
    """Half-pixel-centre bilinear resize of one (H, W, C) image, by explicit loops."""
    in_h, in_w, _ = image.shape

    def taps(o, in_size, out_size):
        pos = max((o + 0.5) * in_size / out_size - 0.5, 0.0)
        left = min(int(np.floor(pos)), in_size - 1)
        right = min(left + 1, in_size - 1)
        frac = pos - left
        return left, right, frac

    out = np.zeros((height, width, image.shape[2]))
    for i in range(height):
        t, b, fy = taps(i, in_h, height)
        for j in range(width):
            left, r, fx = taps(j, in_w, width)
            out[i, j] = ((1 - fy) * ((1 - fx) * image[t, left] + fx * image[t, r])
                         + fy * ((1 - fx) * image[b, left] + fx * image[b, r]))
    return out


RESIZE_CASES = {"down": (3, 4), "up": (9, 11), "mixed": (5, 3)}
RESIZE_OPTIONS = {"bilinear": {}, "nearest": {"interpolation": "nearest"},
                  "crop": {"crop_to_aspect_ratio": True},
                  "pad": {"pad_to_aspect_ratio": True, "fill_value": 0.25}}


@pytest.mark.parametrize("size", RESIZE_CASES.values(), ids=RESIZE_CASES.keys())
@pytest.mark.parametrize("option", RESIZE_OPTIONS.values(), ids=RESIZE_OPTIONS.keys())
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_resizing_matches_keras(size, option, data_format):
    x = _images(2, 5, 7, 3)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = _run(ek.layers.Resizing(*size, data_format=data_format, **option), x)
    keras = real_keras()
    ref = to_numpy(keras.layers.Resizing(*size, data_format=data_format, **option)(x))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_resizing_bilinear_matches_a_loop_reference_and_keeps_integer_dtypes():
    x = _images(1, 5, 7, 2)
    out = _run(ek.layers.Resizing(4, 10), x)
    np.testing.assert_allclose(out[0], _bilinear_reference(x[0], 4, 10), rtol=1e-5, atol=1e-6)
    single = _run(ek.layers.Resizing(4, 10), x[0])  # an unbatched image
    np.testing.assert_allclose(single, out[0], rtol=1e-6)
    pixels = (_images(1, 5, 7, 3) * 255).astype(np.uint8)
    resized = _run(ek.layers.Resizing(3, 4), pixels)
    assert resized.dtype == np.uint8
    keras = real_keras()
    np.testing.assert_array_equal(resized, to_numpy(keras.layers.Resizing(3, 4)(pixels)))


def test_resizing_gradient_config_and_errors():
    layer = ek.layers.Resizing(3, 5)
    assert gradcheck(lambda t: layer(t), (_t64(_images(1, 4, 4, 2)),))
    layer = ek.layers.Resizing(3, 5, crop_to_aspect_ratio=True)
    assert gradcheck(lambda t: layer(t), (_t64(_images(1, 4, 6, 1)),))
    keras = real_keras()
    assert _without_dtype(ek.layers.Resizing(3, 5, interpolation="nearest").get_config()) == \
        _without_dtype(keras.layers.Resizing(3, 5, interpolation="nearest").get_config())
    with pytest.raises(NotImplementedError, match="bicubic"):
        ek.layers.Resizing(3, 3, interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        ek.layers.Resizing(3, 3, antialias=True)
    with pytest.raises(ValueError, match="interpolation"):
        ek.layers.Resizing(3, 3, interpolation="cubic")
    with pytest.raises(ValueError, match="Only one of"):
        ek.layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="height must be a positive integer"):
        ek.layers.Resizing(0, 3)
    with pytest.raises(ValueError, match="data_format"):
        ek.layers.Resizing(3, 3, data_format="nhwc")
    with pytest.raises(ValueError, match=r"Resizing: expected rank 3 .* shape \(2, 3\)"):
        ek.layers.Resizing(3, 3)(np.zeros((2, 3), np.float32))


# ---- CenterCrop --------------------------------------------------------------------------------
CROP_CASES = {"inside": (3, 4), "odd_even": (4, 7), "too_narrow": (6, 3), "too_big": (8, 9)}


@pytest.mark.parametrize("size", CROP_CASES.values(), ids=CROP_CASES.keys())
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_center_crop_matches_keras(size, data_format):
    x = _images(2, 5, 7, 3)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = _run(ek.layers.CenterCrop(*size, data_format=data_format), x)
    keras = real_keras()
    ref = to_numpy(keras.layers.CenterCrop(*size, data_format=data_format)(x))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_center_crop_window_gradient_and_config():
    x = np.arange(5 * 7, dtype=np.float32).reshape(1, 5, 7, 1)
    np.testing.assert_array_equal(_run(ek.layers.CenterCrop(3, 4), x), x[:, 1:4, 1:5])
    assert _run(ek.layers.CenterCrop(2, 2), x[0]).shape == (2, 2, 1)
    layer = ek.layers.CenterCrop(2, 3)
    assert gradcheck(lambda t: layer(t), (_t64(_images(1, 4, 5, 2)),))
    assert layer.compute_output_shape((None, 4, 5, 2)) == (None, 2, 3, 2)
    keras = real_keras()
    assert _without_dtype(layer.get_config()) == \
        _without_dtype(keras.layers.CenterCrop(2, 3).get_config())
    with pytest.raises(ValueError, match="CenterCrop: width must be a positive integer"):
        ek.layers.CenterCrop(2, -1)


def test_image_preprocessing_in_a_trained_sequential_model(tmp_path):
    rng = np.random.RandomState(0)
    x = (rng.rand(32, 10, 10, 1) * 255).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 127.5).astype(np.float32)
    model = ek.Sequential([ek.Input((10, 10, 1)), ek.layers.Rescaling(1 / 255.0),
                           ek.layers.CenterCrop(8, 8), ek.layers.Resizing(4, 4),
                           ek.layers.Flatten(), ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
