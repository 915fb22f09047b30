"""Keras augmentation layers RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomContrast, RandomBrightness: identity when called with training=False (predict,
evaluate), random otherwise (see test_keras_augmentation_modes.py); known transforms (a
quarter turn, a shift by whole pixels, a flip) equal NumPy's; real Keras 3 (torch backend) on deterministic
factors; the randomness's range and seeding; gradients; and training inside Sequential.fit."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.testing import gradcheck
from keras_layer_checks import fresh_keras  # noqa: F401 (autouse)
from keras_preprocessing_helpers import images as _images, t64 as _t64
from keras_preprocessing_helpers import without_dtype as _without_dtype
from keras_reference import real_keras, to_numpy


def _train(layer, x):
    with ember.no_grad():
        return layer(x, training=True).numpy()


ALL_LAYERS = {
    "flip": lambda **k: ek.layers.RandomFlip(**k),
    "rotation": lambda **k: ek.layers.RandomRotation(0.2, **k),
    "zoom": lambda **k: ek.layers.RandomZoom(0.3, 0.2, **k),
    "translation": lambda **k: ek.layers.RandomTranslation(0.2, 0.3, **k),
    "contrast": lambda **k: ek.layers.RandomContrast(0.5, value_range=(0, 1), **k),
    "brightness": lambda **k: ek.layers.RandomBrightness(0.3, value_range=(0, 1), **k),
}


@pytest.mark.parametrize("make", ALL_LAYERS.values(), ids=ALL_LAYERS.keys())
def test_random_unless_called_with_training_false(make):
    x = _images(4, 6, 6, 2)
    layer = make()
    with ember.no_grad():
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
        assert not np.allclose(layer(x).numpy(), x)  # (Keras: call defaults to training=True)
    assert not np.allclose(_train(layer, x), x)
    layer.train()  # as fit sets it
    with ember.no_grad():
        assert not np.allclose(layer(x).numpy(), x)


@pytest.mark.parametrize("make", ALL_LAYERS.values(), ids=ALL_LAYERS.keys())
def test_seed_repeats_the_draws(make):
    x = _images(4, 6, 6, 2)
    first, second = make(seed=7), make(seed=7)
    np.testing.assert_array_equal(_train(first, x), _train(second, x))
    assert not np.array_equal(_train(first, x), _train(make(seed=8), x))
    ember.manual_seed(3)
    a = _train(make(), x)
    ember.manual_seed(3)
    np.testing.assert_array_equal(_train(make(), x), a)  # unseeded: ember's global generator


# ---- known geometry ----------------------------------------------------------------------------
def test_quarter_turn_rotates_counter_clockwise():
    x = _images(2, 5, 5, 3)
    for interpolation in ("bilinear", "nearest"):
        out = _train(ek.layers.RandomRotation((0.25, 0.25), interpolation=interpolation), x)
        np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=1e-5)
    out = _train(ek.layers.RandomRotation((-0.5, -0.5), fill_mode="constant"), x)
    np.testing.assert_allclose(out, x[:, ::-1, ::-1], atol=1e-5)
    chw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = _train(ek.layers.RandomRotation((0.25, 0.25), data_format="channels_first"), chw)
    np.testing.assert_allclose(out, np.rot90(chw, k=1, axes=(2, 3)), atol=1e-5)


def test_translation_by_whole_pixels_and_fill_modes():
    x = np.arange(1 * 4 * 5, dtype=np.float32).reshape(1, 4, 5, 1) + 1
    # height 0.25 * 4 = one row down, width -0.4 * 5 = two columns left.
    shift = dict(height_factor=(0.25, 0.25), width_factor=(-0.4, -0.4))
    out = _train(ek.layers.RandomTranslation(**shift, fill_mode="constant", fill_value=-1), x)
    expected = np.full_like(x, -1)
    expected[:, 1:, :3] = x[:, :3, 2:]
    np.testing.assert_array_equal(out, expected)
    out = _train(ek.layers.RandomTranslation(**shift, fill_mode="wrap"), x)
    np.testing.assert_array_equal(out, np.roll(x, (1, -2), axis=(1, 2)))
    out = _train(ek.layers.RandomTranslation(**shift, fill_mode="nearest"), x)
    rows, cols = np.clip(np.arange(4) - 1, 0, 3), np.clip(np.arange(5) + 2, 0, 4)
    np.testing.assert_array_equal(out, x[:, rows][:, :, cols])
    out = _train(ek.layers.RandomTranslation(**shift, fill_mode="reflect"), x)
    rows, cols = [0, 0, 1, 2], [2, 3, 4, 4, 3]  # reflect about the edge (d c b a | a b c d)
    np.testing.assert_array_equal(out, x[:, rows][:, :, cols])


def test_flip_modes():
    x = _images(6, 3, 4, 2)
    flipped_both = x[:, ::-1, ::-1]
    out = _train(ek.layers.RandomFlip(seed=1), x)
    for image, result, both in zip(x, out, flipped_both):  # both axes or neither, per image
        assert np.array_equal(result, image) or np.array_equal(result, both)
    out = _train(ek.layers.RandomFlip("horizontal", seed=1), x)
    for image, result in zip(x, out):
        assert np.array_equal(result, image) or np.array_equal(result, image[:, ::-1])
    out = _train(ek.layers.RandomFlip("vertical", seed=1), x)
    for image, result in zip(x, out):
        assert np.array_equal(result, image) or np.array_equal(result, image[::-1])


def test_zoom_out_by_two_keeps_the_centre_pixel_and_shrinks():
    x = _images(1, 5, 5, 1)
    out = _train(ek.layers.RandomZoom((1.0, 1.0), fill_mode="constant",
                                      interpolation="nearest"), x)
    # Zoom factor 2 reads input (x - 2) * 2 + 2 for output column x: the centre stays.
    expected = np.zeros_like(x)
    for i in range(5):
        for j in range(5):
            si, sj = (i - 2) * 2 + 2, (j - 2) * 2 + 2
            if 0 <= si < 5 and 0 <= sj < 5:
                expected[0, i, j] = x[0, si, sj]
    np.testing.assert_array_equal(out, expected)


# ---- real Keras on deterministic factors -------------------------------------------------------
KERAS_CASES = {
    "rotation_36deg": ("RandomRotation", ((0.1, 0.1),), {}),
    "rotation_neg": ("RandomRotation", ((-0.3, -0.3),), {}),
    "zoom": ("RandomZoom", ((0.5, 0.5), (-0.3, -0.3)), {}),
    "zoom_height_only": ("RandomZoom", ((-0.2, -0.2),), {}),
    "translation": ("RandomTranslation", ((0.13, 0.13), (-0.27, -0.27)), {}),
}


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("case", KERAS_CASES.values(), ids=KERAS_CASES.keys())
def test_affine_layers_match_keras(case, interpolation, fill_mode):
    name, args, kwargs = case
    x = _images(2, 5, 7, 3)
    options = dict(kwargs, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5)
    out = _train(getattr(ek.layers, name)(*args, **options), x)
    keras = real_keras()
    ref = to_numpy(getattr(keras.layers, name)(*args, **options)(x, training=True))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_affine_channels_first_and_color_layers_match_keras():
    keras = real_keras()
    x = _images(2, 3, 5, 6)
    for name, args in (("RandomRotation", ((0.1, 0.1),)),
                       ("RandomTranslation", ((0.2, 0.2), (0.3, 0.3)))):
        out = _train(getattr(ek.layers, name)(*args, data_format="channels_first"), x)
        ref = getattr(keras.layers, name)(*args, data_format="channels_first")
        np.testing.assert_allclose(out, to_numpy(ref(x, training=True)), atol=1e-5)
    x = _images(2, 5, 6, 3)
    for name, args in (("RandomContrast", ((-0.3, 0.3),)), ("RandomBrightness", ((0.2, 0.2),))):
        out = _train(getattr(ek.layers, name)(*args, value_range=(0, 1)), x)
        ref = getattr(keras.layers, name)(*args, value_range=(0, 1))
        np.testing.assert_allclose(out, to_numpy(ref(x, training=True)), atol=1e-5)


def test_contrast_and_brightness_formulas():
    x = _images(3, 4, 5, 2) * 200
    out = _train(ek.layers.RandomContrast((-0.5, 0.5)), x)  # factor exactly 1.5
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, np.clip((x - mean) * 1.5 + mean, 0, 255), rtol=1e-5)
    out = _train(ek.layers.RandomBrightness((0.1, 0.1), value_range=(0, 200)), x)
    np.testing.assert_allclose(out, np.clip(x + 20, 0, 200), rtol=1e-6)


def test_random_parameters_stay_in_their_ranges():
    x = np.ones((400, 2, 2, 1), np.float32) * 100
    out = _train(ek.layers.RandomBrightness((-0.1, 0.3), value_range=(0, 1000), seed=0), x)
    deltas = out[:, 0, 0, 0] - 100
    assert deltas.min() >= -100 - 1e-3 and deltas.max() <= 300 + 1e-3
    assert deltas.min() < -50 and deltas.max() > 250  # the whole range is used
    flips = _train(ek.layers.RandomFlip("horizontal", seed=0),
                   np.tile(np.float32([[[[0], [1]]]]), (400, 1, 1, 1)))
    assert 150 < (flips[:, 0, 0, 0] == 1).sum() < 250  # about half
    layer = ek.layers.RandomRotation(0.1, seed=0)
    angles = layer.uniform((1000,), layer.factor[0] * 360, layer.factor[1] * 360)
    assert -36 <= angles.min() < -34 and 34 < angles.max() <= 36


def test_gradients_flow_to_the_images():
    x = _t64(_images(2, 4, 5, 2))
    for layer in (ek.layers.RandomRotation(0.1, seed=0, fill_mode="constant"),
                  ek.layers.RandomZoom(0.2, seed=1, fill_mode="reflect"),
                  ek.layers.RandomTranslation(0.2, 0.2, seed=2, interpolation="nearest"),
                  ek.layers.RandomFlip(seed=3), ek.layers.RandomContrast(0.4, seed=4),
                  ek.layers.RandomBrightness(0.1, value_range=(-10, 10), seed=5)):
        state = ember.Generator().manual_seed(11)
        layer._generator = state  # the same draws in every gradcheck evaluation

        def run(t, layer=layer):
            layer._generator.manual_seed(11)
            return layer(t, training=True)
        assert gradcheck(run, (x,)), type(layer).__name__


def test_configs_match_keras_and_round_trip():
    keras = real_keras()
    cases = [("RandomFlip", ("horizontal",), {"seed": 3}),
             ("RandomRotation", (0.2,), {"fill_mode": "constant", "fill_value": 1.0}),
             ("RandomRotation", ((-0.1, 0.3),), {"interpolation": "nearest"}),
             ("RandomZoom", (0.2,), {}), ("RandomZoom", ((-0.2, 0.1), 0.3), {"seed": 1}),
             ("RandomTranslation", (0.1, (0.2, -0.3)), {"fill_mode": "wrap"}),
             ("RandomContrast", (0.2,), {}), ("RandomContrast", ((0.1, 0.4),), {}),
             ("RandomBrightness", (0.2,), {"value_range": (1, 0)})]
    for name, args, kwargs in cases:
        layer = getattr(ek.layers, name)(*args, **kwargs)
        config = layer.get_config()
        assert _without_dtype(config) == \
            _without_dtype(getattr(keras.layers, name)(*args, **kwargs).get_config()), name
        assert _without_dtype(type(layer).from_config(config).get_config()) == \
            _without_dtype(config)


def test_bad_arguments():
    with pytest.raises(ValueError, match="RandomRotation: The `factor` argument"):
        ek.layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match="RandomZoom: .*\\(-1.0, 1.0\\]"):
        ek.layers.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="RandomTranslation"):
        ek.layers.RandomTranslation((0.1, 1.2), 0.1)
    with pytest.raises(ValueError, match="RandomContrast"):
        ek.layers.RandomContrast(-0.2)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        ek.layers.RandomRotation(0.1, fill_mode="mirror_x")
    with pytest.raises(NotImplementedError, match="interpolation"):
        ek.layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="mode must be one of"):
        ek.layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="value_range"):
        ek.layers.RandomBrightness(0.1, value_range=5)
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        ek.layers.RandomFlip(seed="a")
    with pytest.raises(ValueError, match=r"RandomFlip: expected rank 3 .* shape \(2, 3\)"):
        ek.layers.RandomFlip()(np.zeros((2, 3), np.float32), training=True)


def test_augmentation_in_a_sequential_model_trained_with_fit(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.rand(64, 8, 8, 1).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.float32)
    augment = [ek.layers.RandomFlip("horizontal"), ek.layers.RandomRotation(0.05),
               ek.layers.RandomZoom(0.1), ek.layers.RandomTranslation(0.1, 0.1),
               ek.layers.RandomContrast(0.2, value_range=(0, 1))]
    model = ek.Sequential([ek.Input((8, 8, 1)), *augment, ek.layers.Conv2D(4, 3),
                           ek.layers.GlobalAveragePooling2D(),
                           ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    seen = []
    original_call = ek.layers.RandomFlip.augment

    def spy(self, images):
        seen.append(images.shape[0])
        return original_call(self, images)
    ek.layers.RandomFlip.augment = spy
    try:
        history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
        predictions = model.predict(x, verbose=0)
    finally:
        ek.layers.RandomFlip.augment = original_call
    assert seen == [16] * 16  # augmented in each training step, not in predict
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(predictions, model.predict(x, verbose=0))  # deterministic
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), predictions, rtol=1e-6)


def test_augmentation_as_a_nested_sequential_as_keras_io_writes_it():
    x = np.random.RandomState(1).rand(32, 8, 8, 1).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > 0.5).astype(np.float32)
    data_augmentation = ek.Sequential([ek.layers.RandomFlip("horizontal"),
                                       ek.layers.RandomRotation(0.1)])
    model = ek.Sequential([ek.Input((8, 8, 1)), data_augmentation, ek.layers.Flatten(),
                           ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    with ember.no_grad():
        np.testing.assert_array_equal(data_augmentation(x, training=False).numpy(), x)
        assert not np.allclose(data_augmentation(x).numpy(), x)
