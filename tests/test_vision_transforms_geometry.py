"""ember.vision.transforms that move pixels: Resize, crops, Pad, flips, RandomRotation,
Grayscale, on PIL images (against Pillow itself) and tensors (against NumPy references)."""
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import InterpolationMode
from ember.vision.transforms import functional as TF

Image = pytest.importorskip("PIL.Image")


def rgb_array(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def as_tensor(array_hwc):
    return ember.tensor(np.ascontiguousarray(array_hwc.transpose(2, 0, 1)))


# ---- Resize -------------------------------------------------------------------------------------
@pytest.mark.parametrize("hw, size, expected_hw", [
    ((10, 12), 5, (5, 6)),          # landscape: the smaller edge (height) becomes 5
    ((12, 10), 5, (6, 5)),          # portrait
    ((10, 12), [5], (5, 6)),
    ((10, 12), (4, 9), (4, 9)),     # (h, w) exactly
])
def test_resize_output_size_follows_torchvision(hw, size, expected_hw):
    image = Image.fromarray(rgb_array(*hw))
    assert T.Resize(size)(image).size == expected_hw[::-1]
    assert tuple(T.Resize(size)(as_tensor(rgb_array(*hw))).shape) == (3, *expected_hw)


def test_resize_max_size_caps_the_longer_edge():
    image = Image.fromarray(rgb_array(10, 40))
    assert T.Resize(8, max_size=20)(image).size == (20, 5)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((8, 8), max_size=20)(image)


def test_resize_of_a_pil_image_is_pillows_antialiased_bilinear():
    array = rgb_array(17, 23)
    out = T.Resize((7, 9))(Image.fromarray(array))
    expected = Image.fromarray(array).resize((9, 7), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    nearest = T.Resize((7, 9), interpolation=InterpolationMode.NEAREST)(Image.fromarray(array))
    np.testing.assert_array_equal(
        np.asarray(nearest), np.asarray(Image.fromarray(array).resize((9, 7), 0)))


def test_resize_of_a_uint8_tensor_equals_the_pil_path():
    array = rgb_array(17, 23)
    from_tensor = T.Resize((7, 9))(as_tensor(array))
    from_pil = T.PILToTensor()(T.Resize((7, 9))(Image.fromarray(array)))
    assert from_tensor.dtype == ember.uint8
    np.testing.assert_array_equal(from_tensor.numpy(), from_pil.numpy())


def antialiased_bilinear_1d(values, out_size):
    """Reference: each output pixel averages the inputs under a triangle filter stretched by
    the downscaling factor (Pillow's and torchvision's antialiased bilinear)."""
    in_size = values.shape[-1]
    scale = in_size / out_size
    support = max(scale, 1.0)
    out = np.empty(values.shape[:-1] + (out_size,))
    for i in range(out_size):
        center = (i + 0.5) * scale
        js = np.arange(in_size)
        weights = np.maximum(0.0, 1.0 - np.abs((js + 0.5 - center) / support))
        out[..., i] = values @ (weights / weights.sum())
    return out


@pytest.mark.parametrize("out_hw", [(5, 4), (11, 30)])  # shrinking, and one edge enlarged
def test_resize_of_a_float_tensor_matches_a_numpy_antialiased_bilinear(out_hw):
    x = np.random.default_rng(4).random((2, 3, 9, 13)).astype(np.float32)
    out = T.Resize(out_hw)(ember.tensor(x))
    rows_done = antialiased_bilinear_1d(x, out_hw[1])
    expected = antialiased_bilinear_1d(rows_done.swapaxes(-1, -2), out_hw[0]).swapaxes(-1, -2)
    assert tuple(out.shape) == (2, 3, *out_hw) and out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), expected, atol=2e-6)


def test_resize_nearest_of_a_tensor_picks_floor_of_scaled_indices():
    x = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7)
    out = T.Resize((3, 4), interpolation=InterpolationMode.NEAREST)(ember.tensor(x))
    rows = np.floor(np.arange(3) * 5 / 3).astype(int)
    cols = np.floor(np.arange(4) * 7 / 4).astype(int)
    np.testing.assert_array_equal(out.numpy(), x[:, rows][:, :, cols])
    exact = T.Resize((3, 4), interpolation=InterpolationMode.NEAREST_EXACT)(ember.tensor(x))
    rows = np.floor((np.arange(3) + 0.5) * 5 / 3).astype(int)
    cols = np.floor((np.arange(4) + 0.5) * 7 / 4).astype(int)
    np.testing.assert_array_equal(exact.numpy(), x[:, rows][:, :, cols])


def test_resize_rejects_what_ember_cannot_do():
    x = ember.rand(3, 8, 8)
    with pytest.raises(NotImplementedError, match="bicubically with antialias=True only"):
        T.Resize(4, interpolation=InterpolationMode.BICUBIC, antialias=False)(x)
    with pytest.raises(ValueError, match="supports nearest, nearest-exact, bilinear"):
        T.Resize(4, interpolation=InterpolationMode.BOX)(x)
    with pytest.raises(TypeError, match="size should be int or sequence"):
        T.Resize("4")
    with pytest.raises(ValueError, match="positive int"):
        T.Resize(0)(x)


# ---- crops --------------------------------------------------------------------------------------
def test_center_crop_rounds_like_torchvision_and_pads_small_images():
    x = np.arange(3 * 6 * 7, dtype=np.float32).reshape(3, 6, 7)
    out = T.CenterCrop((3, 4))(ember.tensor(x))
    top, left = int(round((6 - 3) / 2.0)), int(round((7 - 4) / 2.0))  # 2 (round half even), 2
    np.testing.assert_array_equal(out.numpy(), x[:, top:top + 3, left:left + 4])
    image = Image.fromarray(rgb_array(6, 7))
    np.testing.assert_array_equal(np.asarray(T.CenterCrop((3, 4))(image)),
                                  rgb_array(6, 7)[top:top + 3, left:left + 4])
    padded = T.CenterCrop(9)(ember.tensor(x))
    expected = np.zeros((3, 9, 9), np.float32)
    expected[:, 1:7, 1:8] = x  # (9-6)//2 = 1 on top, (9-7)//2 = 1 on the left
    np.testing.assert_array_equal(padded.numpy(), expected)


def find_window(big, small):
    """(top, left) of every place where `small` (C, h, w) sits inside `big` (C, H, W)."""
    h, w = small.shape[-2:]
    return [(i, j) for i in range(big.shape[-2] - h + 1) for j in range(big.shape[-1] - w + 1)
            if np.array_equal(big[..., i:i + h, j:j + w], small)]


def test_random_crop_is_a_window_of_the_padded_image_and_seeded():
    x = np.random.default_rng(5).random((3, 8, 8)).astype(np.float32)
    crop = T.RandomCrop(6, padding=2, padding_mode="reflect")
    ember.manual_seed(7)
    first = crop(ember.tensor(x)).numpy()
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    assert first.shape == (3, 6, 6) and find_window(padded, first)
    ember.manual_seed(7)
    np.testing.assert_array_equal(crop(ember.tensor(x)).numpy(), first)
    places = {find_window(padded, crop(ember.tensor(x)).numpy())[0] for _ in range(30)}
    assert len(places) > 5  # it moves


def test_random_crop_pad_if_needed_and_errors():
    image = Image.fromarray(rgb_array(4, 5))
    out = T.RandomCrop((6, 7), pad_if_needed=True, fill=9)(image)
    assert out.size == (7, 6)
    with pytest.raises(ValueError, match="Required crop size \\(6, 7\\) is larger than input "
                                         "image size \\(4, 5\\)"):
        T.RandomCrop((6, 7))(image)
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(3, padding_mode="wrap")


def test_random_resized_crop_params_respect_scale_and_ratio():
    image = Image.fromarray(rgb_array(40, 50))
    ember.manual_seed(0)
    for _ in range(50):
        top, left, h, w = T.RandomResizedCrop.get_params(image, (0.3, 0.6), (0.5, 2.0))
        assert 0 <= top <= 40 - h and 0 <= left <= 50 - w
        assert 0.3 * 2000 * 0.8 <= h * w <= 0.6 * 2000 * 1.2  # rounding of h and w
        assert 0.5 * 0.8 <= w / h <= 2.0 * 1.2
    # No crop of a 40x50 image has ratio 10: the fallback is the central crop of ratio 10 max.
    top, left, h, w = T.RandomResizedCrop.get_params(image, (0.9, 1.0), (10.0, 10.0))
    assert (h, w) == (int(round(50 / 10.0)), 50) and (top, left) == ((40 - 5) // 2, 0)


def test_random_resized_crop_output_and_reproducibility():
    x = ember.tensor(as_tensor(rgb_array(20, 30)).numpy())
    crop = T.RandomResizedCrop(8)
    ember.manual_seed(3)
    first = crop(x)
    ember.manual_seed(3)
    again = crop(x)
    assert tuple(first.shape) == (3, 8, 8) and first.dtype == ember.uint8
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    ember.manual_seed(3)
    top, left, h, w = T.RandomResizedCrop.get_params(x, (0.08, 1.0), (3 / 4, 4 / 3))
    expected = TF.resize(TF.crop(x, top, left, h, w), [8, 8])
    np.testing.assert_array_equal(first.numpy(), expected.numpy())


# ---- pad ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_pad_modes_match_numpy(mode):
    array = rgb_array(5, 6)
    pil_out = T.Pad((1, 2, 3, 4), padding_mode=mode)(Image.fromarray(array))
    np.testing.assert_array_equal(np.asarray(pil_out),
                                  np.pad(array, ((2, 4), (1, 3), (0, 0)), mode=mode))
    tensor_out = T.Pad([2, 1], padding_mode=mode)(as_tensor(array))
    np.testing.assert_array_equal(tensor_out.numpy(),
                                  np.pad(array.transpose(2, 0, 1), ((0, 0), (1, 1), (2, 2)),
                                         mode=mode))


def test_pad_constant_fills_each_channel_and_negative_padding_crops():
    array = rgb_array(3, 4)
    out = np.asarray(T.Pad(1, fill=(10, 20, 30))(Image.fromarray(array)))
    assert out.shape == (5, 6, 3)
    assert out[0, 0].tolist() == [10, 20, 30] and out[4, 5].tolist() == [10, 20, 30]
    np.testing.assert_array_equal(out[1:4, 1:5], array)
    gray = T.Pad(2, fill=7)(Image.fromarray(array[:, :, 0]))
    assert gray.mode == "L" and np.asarray(gray)[0, 0] == 7
    cropped = TF.pad(as_tensor(array), [-1, 0, 0, -1])
    np.testing.assert_array_equal(cropped.numpy(), array.transpose(2, 0, 1)[:, :2, 1:])
    with pytest.raises(ValueError, match="padding should be an int or a sequence"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either"):
        T.Pad(1, padding_mode="wrap")


# ---- flips and rotation -------------------------------------------------------------------------
def test_flips_mirror_pil_images_and_tensors():
    array = rgb_array(4, 5)
    np.testing.assert_array_equal(
        np.asarray(T.RandomHorizontalFlip(p=1.0)(Image.fromarray(array))), array[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(as_tensor(array)).numpy(),
                                  array.transpose(2, 0, 1)[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(as_tensor(array)).numpy().tolist() == \
        array.transpose(2, 0, 1).tolist()


def test_random_flip_draws_from_embers_seeded_generator():
    x = ember.tensor(np.arange(4.0).reshape(1, 1, 4))
    flip = T.RandomHorizontalFlip()

    def draws():
        return [flip(x).numpy()[0, 0, 0] == 3.0 for _ in range(200)]

    ember.manual_seed(11)
    first = draws()
    ember.manual_seed(11)
    assert draws() == first
    assert 60 < sum(first) < 140  # p = 0.5


def test_random_rotation_uses_pillows_rotate_with_the_drawn_angle():
    array = rgb_array(9, 11)
    rotation = T.RandomRotation(30, fill=(1, 2, 3))
    ember.manual_seed(5)
    out = rotation(Image.fromarray(array))
    ember.manual_seed(5)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    assert -30 <= angle <= 30
    expected = Image.fromarray(array).rotate(angle, 0, False, None, fillcolor=(1, 2, 3))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


def test_rotate_a_tensor_by_90_degrees_is_rot90():
    x = np.random.default_rng(6).random((2, 3, 5, 5)).astype(np.float32)
    out = TF.rotate(ember.tensor(x), 90.0)
    np.testing.assert_array_equal(out.numpy(), np.rot90(x, k=1, axes=(-2, -1)))
    bytes_ = as_tensor(rgb_array(6, 6))
    np.testing.assert_array_equal(TF.rotate(bytes_, -90).numpy(),
                                  np.rot90(bytes_.numpy(), k=-1, axes=(-2, -1)))


def test_random_rotation_rejects_bad_degrees():
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError, match="must be of len 2"):
        T.RandomRotation((1, 2, 3))


# ---- grayscale ----------------------------------------------------------------------------------
def test_grayscale_of_a_tensor_uses_itu_601_weights():
    x = np.random.default_rng(8).random((3, 4, 4)).astype(np.float32)
    out = T.Grayscale()(ember.tensor(x))
    expected = np.float32(0.2989) * x[0] + np.float32(0.587) * x[1] + np.float32(0.114) * x[2]
    np.testing.assert_allclose(out.numpy()[0], expected, rtol=1e-6)
    three = T.Grayscale(num_output_channels=3)(ember.tensor(x))
    assert tuple(three.shape) == (3, 4, 4)
    np.testing.assert_array_equal(three.numpy()[2], out.numpy()[0])
    # A one-channel tensor comes back as a one-channel copy even for 3 outputs, as torchvision's
    # rgb_to_grayscale returns it (its expand keeps the input's shape).
    gray = ember.tensor(x[:1])
    again = T.Grayscale(num_output_channels=3)(gray)
    assert tuple(again.shape) == (1, 4, 4) and again is not gray
    np.testing.assert_array_equal(again.numpy(), x[:1])


def test_grayscale_of_a_pil_image_is_pillows_convert():
    image = Image.fromarray(rgb_array(4, 6))
    assert np.array_equal(np.asarray(T.Grayscale()(image)), np.asarray(image.convert("L")))
    three = T.Grayscale(3)(image)
    assert three.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(three)[:, :, 1], np.asarray(image.convert("L")))
    with pytest.raises(ValueError, match="either 1 or 3"):
        T.Grayscale(2)


def test_a_cifar_style_training_pipeline_gives_normalized_tensors():
    pipeline = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                          T.ToTensor(), T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
    ember.manual_seed(0)
    out = pipeline(Image.fromarray(rgb_array(32, 32)))
    assert tuple(out.shape) == (3, 32, 32) and out.dtype == ember.float32
    assert math.isfinite(float(out.abs().max()))


# ---- tensor Resize against PyTorch's interpolate (what torchvision's tensor resize calls) -------
@pytest.mark.parametrize("mode, interpolation", [
    ("bilinear", InterpolationMode.BILINEAR), ("bicubic", InterpolationMode.BICUBIC)])
@pytest.mark.parametrize("out_hw", [(5, 7), (14, 9)])
def test_resize_of_a_float_tensor_matches_pytorch_antialiased_interpolate(mode, interpolation,
                                                                          out_hw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(9).random((2, 3, 11, 13)).astype(np.float32)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=out_hw, mode=mode,
                                               align_corners=False, antialias=True)
    out = T.Resize(out_hw, interpolation=interpolation)(ember.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("mode, interpolation", [
    ("nearest", InterpolationMode.NEAREST), ("nearest-exact", InterpolationMode.NEAREST_EXACT)])
def test_resize_nearest_of_a_tensor_matches_pytorch(mode, interpolation):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).random((1, 2, 9, 10)).astype(np.float32)
    for out_hw in ((4, 7), (13, 16)):
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=out_hw, mode=mode)
        out = T.Resize(out_hw, interpolation=interpolation)(ember.tensor(x))
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_resize_of_a_uint8_tensor_matches_pytorch_within_rounding():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(11).integers(0, 256, (1, 3, 17, 23)).astype(np.uint8)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=(7, 9), mode="bilinear",
                                               align_corners=False, antialias=True)
    out = T.Resize((7, 9))(ember.tensor(x)).numpy()
    assert np.abs(out.astype(int) - expected.numpy()).max() <= 1


@pytest.mark.parametrize("angle", [10.0, 30.0, -45.0, 137.0])
def test_rotate_of_a_tensor_matches_torchvisions_nearest_grid_sample(angle):
    torch = pytest.importorskip("torch")
    height, width = 16, 20
    x = np.random.default_rng(12).random((1, 2, height, width)).astype(np.float32) + 1
    # torchvision's tensor path: output pixel centres, relative to the image centre, mapped by
    # the inverse rotation, sampled by grid_sample (nearest, zeros outside).
    ys, xs = np.meshgrid(np.arange(height) + 0.5 - height / 2, np.arange(width) + 0.5 - width / 2,
                         indexing="ij")
    turn = math.radians(-angle)
    x_in = math.cos(turn) * xs + math.sin(turn) * ys
    y_in = -math.sin(turn) * xs + math.cos(turn) * ys
    grid = np.stack([x_in / (width / 2), y_in / (height / 2)], axis=-1)[None].astype(np.float32)
    expected = torch.nn.functional.grid_sample(torch.from_numpy(x), torch.from_numpy(grid),
                                               mode="nearest", padding_mode="zeros",
                                               align_corners=False).numpy()
    out = TF.rotate(ember.tensor(x), angle).numpy()
    assert np.count_nonzero(out != expected) <= 2 * 2  # a sample landing exactly on a border


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_resize_without_antialias_matches_pytorchs_plain_bilinear(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(13).random((2, 3, 11, 13)) * 255
    x = x.astype(dtype)
    for out_hw in ((5, 6), (15, 20)):
        plain = torch.nn.functional.interpolate(torch.from_numpy(x.astype(np.float32)),
                                                size=out_hw, mode="bilinear",
                                                align_corners=False, antialias=False).numpy()
        out = T.Resize(out_hw, antialias=False)(ember.tensor(x))
        assert out.dtype == ember.from_numpy(x).dtype
        if dtype == np.float32:
            np.testing.assert_allclose(out.numpy(), plain, rtol=2e-6)
        else:  # rounded back to uint8: a value within float error of .5 may go either way
            assert np.abs(out.numpy().astype(int) - np.round(plain)).max() <= 1
