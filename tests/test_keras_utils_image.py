"""keras.utils load_img / img_to_array / array_to_img / save_img and normalize, against real
Keras 3 on the same images and arrays."""
import io
import pathlib
import sys

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_reference import real_keras, to_numpy

Image = pytest.importorskip("PIL.Image")


def _rgb(seed=0, shape=(9, 14, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "img.png"
    Image.fromarray(_rgb()).save(path)
    return path


LOAD_CASES = [
    {},
    {"color_mode": "grayscale"},
    {"color_mode": "rgba"},
    {"target_size": (5, 7)},
    {"target_size": (6, 4), "interpolation": "bilinear"},
    {"target_size": (8, 8), "interpolation": "bicubic", "keep_aspect_ratio": True},
    {"target_size": (4, 12), "interpolation": "lanczos", "keep_aspect_ratio": True},
    {"target_size": (9, 14), "interpolation": "box"},
]


@pytest.mark.parametrize("kwargs", LOAD_CASES)
@pytest.mark.parametrize("as_type", [str, pathlib.Path, "bytesio"])
def test_load_img_matches_real_keras(png, kwargs, as_type):
    keras = real_keras()

    def source():
        return io.BytesIO(png.read_bytes()) if as_type == "bytesio" else as_type(png)

    ours, theirs = ek.utils.load_img(source(), **kwargs), keras.utils.load_img(source(), **kwargs)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_load_img_keeps_16_bit_grayscale_and_checks_arguments(tmp_path, png):
    deep = tmp_path / "deep.png"
    Image.fromarray(np.arange(600, dtype=np.uint16).reshape(20, 30)).save(deep)
    assert ek.utils.load_img(deep, color_mode="grayscale").mode in ("I;16", "I")
    with pytest.raises(ValueError, match="color_mode"):
        ek.utils.load_img(png, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        ek.utils.load_img(png, target_size=(3, 3), interpolation="cubic")
    with pytest.raises(TypeError, match="path-like or io.BytesIO"):
        ek.utils.load_img(3)
    with pytest.raises(FileNotFoundError):
        ek.utils.load_img(tmp_path / "absent.png")


@pytest.mark.parametrize("kwargs", [{}, {"data_format": "channels_first"},
                                    {"dtype": "uint8"}, {"dtype": "float64"}])
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_img_to_array_matches_real_keras(png, kwargs, mode):
    keras = real_keras()
    with Image.open(png) as opened:
        img = opened.convert(mode)
    ours, theirs = ek.utils.img_to_array(img, **kwargs), keras.utils.img_to_array(img, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


ARRAYS = {
    "rgb float": np.random.default_rng(1).normal(size=(6, 5, 3)),
    "rgba": np.random.default_rng(2).uniform(0, 1, (4, 7, 4)),
    "gray": np.random.default_rng(3).uniform(-1, 1, (5, 5, 1)),
    "gray wide": np.arange(30, dtype=np.float64).reshape(5, 6, 1) * 100,
    "constant": np.full((3, 3, 3), 7.0),
    "channels first": np.random.default_rng(4).uniform(0, 255, (3, 4, 6)),
}


@pytest.mark.parametrize("name", ARRAYS)
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_matches_real_keras(name, scale):
    keras = real_keras()
    x = ARRAYS[name]
    kwargs = {"scale": scale}
    if name == "channels first":
        kwargs["data_format"] = "channels_first"
    ours, theirs = ek.utils.array_to_img(x, **kwargs), keras.utils.array_to_img(x, **kwargs)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_array_to_img_rejects_bad_shapes():
    with pytest.raises(ValueError, match="rank 3"):
        ek.utils.array_to_img(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        ek.utils.array_to_img(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="data_format"):
        ek.utils.array_to_img(np.zeros((4, 4, 3)), data_format="nhwc")
    with pytest.raises(ValueError, match="Unsupported image shape"):
        ek.utils.img_to_array(np.zeros((2, 2, 2, 2)))


@pytest.mark.parametrize("suffix, kwargs", [(".png", {}), (".jpg", {"quality": 95}),
                                            (".bmp", {}), ("", {"file_format": "png"})])
def test_save_img_writes_what_real_keras_writes(tmp_path, suffix, kwargs):
    keras = real_keras()
    x = _rgb(5).astype(np.float32)
    ek.utils.save_img(tmp_path / f"ours{suffix}", x, **kwargs)
    keras.utils.save_img(tmp_path / f"theirs{suffix}", x, **kwargs)
    assert (tmp_path / f"ours{suffix}").read_bytes() == (tmp_path / f"theirs{suffix}").read_bytes()
    back = ek.utils.img_to_array(ek.utils.load_img(tmp_path / f"ours{suffix}"))
    if suffix != ".jpg":  # lossless: scaling maps the array's range onto 0..255
        expected = (x - x.min()) / (x.max() - x.min()) * 255
        np.testing.assert_array_equal(back, expected.astype(np.uint8))


def test_save_img_drops_alpha_for_jpeg_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        ek.utils.save_img(tmp_path / "a.jpeg", np.random.default_rng(0).uniform(size=(4, 4, 4)))
    with Image.open(tmp_path / "a.jpeg") as img:
        assert img.mode == "RGB"


@pytest.mark.parametrize("axis, order", [(-1, 2), (1, 1), (-1, np.inf), (2, 2), (-2, 3)])
def test_normalize_numpy_matches_real_keras(axis, order):
    keras = real_keras()
    x = np.random.default_rng(6).normal(size=(3, 4, 5))
    x[0, 1] = 0  # a zero vector stays zero
    ours = ek.utils.normalize(x, axis=axis, order=order)
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, keras.utils.normalize(x, axis=axis, order=order),
                               rtol=1e-12)


def test_normalize_axis_0_divides_by_the_norms_it_took():
    x = np.random.default_rng(7).normal(size=(4, 4))
    ours = ek.utils.normalize(x, axis=0)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=0), np.ones(4), rtol=1e-12)
    np.testing.assert_allclose(ours, x / np.linalg.norm(x, axis=0, keepdims=True), rtol=1e-12)


def test_normalize_tensor_matches_real_keras():
    keras = real_keras()
    import torch
    x = np.random.default_rng(8).normal(size=(3, 6)).astype(np.float32)
    ours = ek.utils.normalize(ember.tensor(x), axis=-1, order=2)
    assert isinstance(ours, ember.Tensor)
    np.testing.assert_allclose(ours.numpy(), to_numpy(keras.utils.normalize(torch.tensor(x))),
                               rtol=1e-5, atol=1e-6)


def test_without_pillow_the_error_names_the_extra(monkeypatch, png):
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now fails
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    for call in (lambda: ek.utils.load_img(png), lambda: ek.utils.array_to_img(np.zeros((2, 2, 3))),
                 lambda: ek.utils.image_dataset_from_directory(png.parent, labels=None,
                                                               verbose=False)[0]):
        with pytest.raises(ImportError, match=r'pip install "ember\[vision\]"'):
            call()
