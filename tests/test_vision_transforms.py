"""ember.vision.transforms: conversions, Normalize, Compose and Lambda against NumPy, Pillow and
PyTorch."""
import numpy as np
import pytest

import ember
from ember.testing import gradcheck
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF

Image = pytest.importorskip("PIL.Image")


def rgb_array(h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


# ---- ToTensor / PILToTensor / ToPILImage ------------------------------------------------------
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_to_tensor_of_a_pil_image_is_chw_float_in_unit_range(mode):
    image = Image.fromarray(rgb_array()).convert(mode)
    out = T.ToTensor()(image)
    pixels = np.asarray(image).reshape(5, 7, -1)
    expected = pixels.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    assert out.dtype == ember.float32 and tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


def test_to_tensor_of_an_ndarray_matches_torchvision_rules():
    array = rgb_array()
    np.testing.assert_array_equal(T.ToTensor()(array).numpy(),
                                  array.transpose(2, 0, 1).astype(np.float32) / 255)
    gray = array[:, :, 0]
    assert tuple(T.ToTensor()(gray).shape) == (1, 5, 7)
    floats = np.random.default_rng(1).random((4, 3, 2))  # not uint8: kept as it is
    out = T.ToTensor()(floats)
    assert out.dtype == ember.float64
    np.testing.assert_array_equal(out.numpy(), floats.transpose(2, 0, 1))


def test_to_tensor_of_binary_and_float_pil_modes():
    bits = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(bits).numpy(), [[[0.0, 1.0], [1.0, 0.0]]])
    floats = np.array([[0.25, -3.0], [7.5, 1.0]], np.float32)
    out = T.ToTensor()(Image.fromarray(floats))
    assert out.dtype == ember.float32
    np.testing.assert_array_equal(out.numpy(), floats[None])


def test_to_tensor_rejects_bad_input():
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional. Got 4"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor_keeps_the_uint8_values():
    array = rgb_array()
    out = T.PILToTensor()(Image.fromarray(array))
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), array.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="PIL Image"):
        T.PILToTensor()(array)


def test_to_pil_image_round_trips_and_scales_floats():
    array = rgb_array()
    back = T.ToPILImage()(T.ToTensor()(Image.fromarray(array)))
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), array)
    # Float tensors are multiplied by 255 and truncated, as Tensor.mul(255).byte() does.
    half = T.ToPILImage()(ember.full((1, 2, 2), 0.5))
    assert half.mode == "L" and np.asarray(half).tolist() == [[127, 127], [127, 127]]
    as_float = T.ToPILImage(mode="F")(ember.full((1, 2, 2), 0.5))
    assert as_float.mode == "F" and np.asarray(as_float)[0, 0] == np.float32(0.5)
    rgba = T.ToPILImage()(np.zeros((3, 4, 4), np.uint8))
    assert rgba.mode == "RGBA" and rgba.size == (4, 3)


def test_to_pil_image_rejects_bad_input():
    with pytest.raises(ValueError, match="Incorrect mode \\(RGB\\)"):
        T.ToPILImage(mode="RGB")(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="> 4 channels. Got 5"):
        T.ToPILImage()(ember.zeros(5, 2, 2))
    with pytest.raises(ValueError, match="Only modes \\['LA'\\]"):
        T.ToPILImage(mode="RGB")(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(TypeError, match="not supported"):
        T.ToPILImage()(np.zeros((2, 2, 3), np.float64))
    with pytest.raises(TypeError, match="Tensor or ndarray"):
        T.ToPILImage()([[0]])


# ---- ConvertImageDtype --------------------------------------------------------------------------
def test_convert_image_dtype_rescales_between_ranges():
    bytes_ = ember.tensor(np.array([[[0, 51, 255]]], np.uint8))
    out = T.ConvertImageDtype(ember.float32)(bytes_)
    assert out.dtype == ember.float32
    np.testing.assert_array_equal(out.numpy(), np.array([[[0, 51, 255]]], np.float32) / 255)
    floats = ember.tensor([[[0.0, 0.5, 1.0]]])
    # 1.0 -> 255 and [0, 1) in even steps: x * (255 + 1 - 1e-3), truncated.
    assert TF.convert_image_dtype(floats, ember.uint8).numpy().tolist() == [[[0, 127, 255]]]
    ints = ember.tensor(np.array([[[255]]], np.uint8))
    assert TF.convert_image_dtype(ints, ember.int32).item() == 255 * (2**31 // 256)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        TF.convert_image_dtype(floats, ember.int32)


# ---- Normalize ----------------------------------------------------------------------------------
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def test_normalize_matches_numpy_per_channel():
    x = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    out = T.Normalize(MEAN, STD)(ember.tensor(x))
    expected = (x - np.float32(MEAN)[:, None, None]) / np.float32(STD)[:, None, None]
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_normalize_takes_batches_and_one_value_for_all_channels():
    x = np.random.default_rng(1).random((2, 3, 4, 4))
    out = T.Normalize((0.5,), (0.25,))(ember.tensor(x, dtype=ember.float64))
    np.testing.assert_allclose(out.numpy(), (x - 0.5) / 0.25, rtol=1e-12)


def test_normalize_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((3, 6, 6)).astype(np.float32)
    expected = (torch.from_numpy(x) - torch.tensor(MEAN)[:, None, None]) / torch.tensor(
        STD)[:, None, None]
    np.testing.assert_allclose(T.Normalize(MEAN, STD)(ember.tensor(x)).numpy(),
                               expected.numpy(), rtol=1e-6, atol=1e-7)


def test_normalize_of_a_tensor_that_requires_grad_is_differentiable():
    data = np.random.default_rng(3).random((2, 3, 3))
    x = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    out = T.Normalize((0.1, 0.2), (0.3, 0.7))(x)
    assert out.requires_grad
    expected = (data - np.array([0.1, 0.2])[:, None, None]) / np.array([0.3, 0.7])[:, None, None]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda t: T.Normalize((0.1, 0.2), (0.3, 0.7))(t), (x,))


def test_normalize_inplace_rewrites_the_tensor():
    x = ember.ones(1, 2, 2)
    out = T.Normalize((0.5,), (0.5,), inplace=True)(x)
    assert out is x and x.numpy().tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    fresh = ember.ones(1, 2, 2)
    T.Normalize((0.5,), (0.5,))(fresh)
    assert fresh.numpy().tolist() == [[[1.0, 1.0], [1.0, 1.0]]]  # not inplace: untouched


def test_normalize_rejects_bad_input():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(ember.ones(1, 2, 2))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0,), (1,))(ember.tensor(np.ones((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match="tensor image of size \\(..., C, H, W\\)"):
        T.Normalize((0,), (1,))(ember.ones(2, 2))
    with pytest.raises(ValueError, match="mean has 2 values .* shape \\(3, 2, 2\\) with 3"):
        T.Normalize((0, 0), (1, 1))(ember.ones(3, 2, 2))
    with pytest.raises(TypeError, match="Tensor Image"):
        T.Normalize((0,), (1,))(np.ones((1, 2, 2), np.float32))


# ---- Compose, Lambda, the MNIST pipeline --------------------------------------------------------
def test_compose_applies_transforms_in_order_and_prints_them():
    pipeline = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 10)])
    assert pipeline(1) == 20
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)")
    with pytest.raises(TypeError, match="lambd should be callable"):
        T.Lambda(3)


def test_mnist_pipeline_on_a_grayscale_image():
    pixels = np.arange(28 * 28, dtype=np.int64).reshape(28, 28) % 256
    image = Image.fromarray(pixels.astype(np.uint8), mode="L")
    out = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])(image)
    expected = (pixels.astype(np.float32) / 255 - np.float32(0.1307)) / np.float32(0.3081)
    assert tuple(out.shape) == (1, 28, 28)
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-6)


def test_tensor_transforms_refuse_tensors_that_require_grad():
    x = ember.rand(3, 4, 4, requires_grad=True)
    with pytest.raises(NotImplementedError, match="hflip: .* not differentiable"):
        TF.hflip(x)
    with ember.no_grad():
        assert tuple(TF.hflip(x).shape) == (3, 4, 4)
