"""invert, posterize, solarize, autocontrast, adjust_sharpness and their Random* transforms:
tensor images against NumPy, and against Pillow's ImageOps/ImageEnhance on the same pixels."""
import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF

Image = pytest.importorskip("PIL.Image")


def rgb(h=9, w=11, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def chw(array):
    return ember.tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))


def test_invert_posterize_solarize_of_tensors():
    x = np.random.default_rng(1).random((3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(TF.invert(ember.tensor(x)).numpy(), np.float32(1) - x)
    np.testing.assert_array_equal(TF.solarize(ember.tensor(x), 0.5).numpy(),
                                  np.where(x >= 0.5, 1 - x, x))
    pixels = rgb()
    np.testing.assert_array_equal(TF.posterize(chw(pixels), 3).numpy(),
                                  (pixels.transpose(2, 0, 1) >> 5) << 5)
    np.testing.assert_array_equal(TF.invert(chw(pixels)).numpy(), 255 - pixels.transpose(2, 0, 1))


@pytest.mark.parametrize("function, args, tolerance", [
    (TF.invert, (), 0), (TF.posterize, (3,), 0), (TF.solarize, (128,), 0),
    (TF.autocontrast, (), 1), (TF.adjust_sharpness, (0.3,), 1), (TF.adjust_sharpness, (2.0,), 1)])
def test_the_tensor_path_agrees_with_pillow(function, args, tolerance):
    pixels = rgb()
    from_pil = np.asarray(function(Image.fromarray(pixels), *args)).transpose(2, 0, 1)
    from_tensor = function(chw(pixels), *args).numpy()
    assert np.abs(from_pil.astype(int) - from_tensor).max() <= tolerance


def test_autocontrast_stretches_each_channel_and_leaves_flat_ones():
    x = np.random.default_rng(2).random((3, 5, 5)).astype(np.float32) * 0.5 + 0.2
    x[2] = 0.3  # flat: nothing to stretch
    out = TF.autocontrast(ember.tensor(x)).numpy()
    low, high = x[:2].min(axis=(1, 2), keepdims=True), x[:2].max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out[:2], (x[:2] - low) / (high - low), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[2], x[2])


def test_adjust_sharpness_blends_with_the_smoothed_interior():
    x = np.random.default_rng(3).random((1, 5, 6)).astype(np.float32)
    kernel = np.ones((3, 3), np.float32)
    kernel[1, 1] = 5
    kernel /= 13
    smooth = x.copy()
    for i in range(1, 4):
        for j in range(1, 5):
            smooth[0, i, j] = (x[0, i - 1:i + 2, j - 1:j + 2] * kernel).sum()
    out = TF.adjust_sharpness(ember.tensor(x), 0.0).numpy()
    np.testing.assert_allclose(out, np.clip(smooth, 0, 1), rtol=1e-5)
    tiny = ember.rand(3, 2, 5)
    assert TF.adjust_sharpness(tiny, 0.0) is tiny  # no interior


def test_random_photometric_transforms_apply_with_probability_p():
    x = ember.tensor(rgb().transpose(2, 0, 1).copy())
    for transform, function in ((T.RandomInvert(p=1.0), TF.invert),
                                (T.RandomPosterize(2, p=1.0), lambda i: TF.posterize(i, 2)),
                                (T.RandomSolarize(100, p=1.0), lambda i: TF.solarize(i, 100)),
                                (T.RandomAutocontrast(p=1.0), TF.autocontrast),
                                (T.RandomAdjustSharpness(2, p=1.0),
                                 lambda i: TF.adjust_sharpness(i, 2))):
        np.testing.assert_array_equal(transform(x).numpy(), function(x).numpy())
    assert T.RandomInvert(p=0.0)(x) is x
    invert = T.RandomInvert()
    ember.manual_seed(3)
    flips = [invert(x) is not x for _ in range(200)]
    ember.manual_seed(3)
    assert [invert(x) is not x for _ in range(200)] == flips and 60 < sum(flips) < 140
    assert repr(T.RandomPosterize(2)) == "RandomPosterize(bits=2,p=0.5)"


def test_photometric_functions_reject_bad_input():
    with pytest.raises(ValueError, match="number of bits should be between 0 and 8"):
        TF.posterize(ember.zeros(3, 2, 2, dtype=ember.uint8), 9)
    with pytest.raises(TypeError, match="Only uint8 image tensors"):
        TF.posterize(ember.zeros(3, 2, 2), 3)
    with pytest.raises(TypeError, match="Threshold should be less than bound"):
        TF.solarize(ember.zeros(3, 2, 2), 2.0)
    with pytest.raises(ValueError, match="sharpness_factor \\(-1\\) is not non-negative"):
        TF.adjust_sharpness(ember.zeros(3, 4, 4), -1)
    with pytest.raises(TypeError, match="1 or 3 channels"):
        TF.invert(ember.zeros(2, 4, 4))
