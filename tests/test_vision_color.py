"""ColorJitter and the adjust_* functions against NumPy, colorsys and Pillow's ImageEnhance."""
import colorsys

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF

Image = pytest.importorskip("PIL.Image")
ImageEnhance = pytest.importorskip("PIL.ImageEnhance")


def rgb_floats(seed=0, h=4, w=5):
    return np.random.default_rng(seed).random((3, h, w)).astype(np.float32)


def luma(x):
    return np.float32(0.2989) * x[0] + np.float32(0.587) * x[1] + np.float32(0.114) * x[2]


def test_adjust_brightness_scales_and_clamps():
    x = rgb_floats()
    out = TF.adjust_brightness(ember.tensor(x), 1.7)
    np.testing.assert_allclose(out.numpy(), np.clip(np.float32(1.7) * x, 0, 1), rtol=1e-6)
    bytes_ = ember.tensor(np.array([[[100, 200]]], np.uint8))
    # 1.5 * 100 = 150, 1.5 * 200 = 300 clamped to 255
    assert TF.adjust_brightness(bytes_, 1.5).numpy().tolist() == [[[150, 255]]]


def test_adjust_contrast_blends_with_the_mean_gray_level():
    x = rgb_floats(1)
    out = TF.adjust_contrast(ember.tensor(x), 0.3)
    mean = luma(x).mean()
    expected = np.clip(np.float32(0.3) * x + np.float32(0.7) * mean, 0, 1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)


def test_adjust_saturation_blends_with_grayscale():
    x = rgb_floats(2)
    out = TF.adjust_saturation(ember.tensor(x), 0.0)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(luma(x), x.shape), rtol=1e-6)
    gray = ember.tensor(x[:1])
    assert TF.adjust_saturation(gray, 0.0) is gray  # one channel: nothing to desaturate


@pytest.mark.parametrize("factor", [0.25, -0.4])
def test_adjust_hue_of_a_float_tensor_matches_colorsys(factor):
    x = rgb_floats(3)
    out = TF.adjust_hue(ember.tensor(x), factor).numpy()
    expected = np.empty_like(x)
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            expected[:, i, j] = colorsys.hsv_to_rgb((h + factor) % 1.0, s, v)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_pil_adjustments_are_pillows_enhancers():
    image = Image.fromarray(np.random.default_rng(4).integers(0, 256, (4, 5, 3)).astype(np.uint8))
    for function, enhancer in ((TF.adjust_brightness, ImageEnhance.Brightness),
                               (TF.adjust_contrast, ImageEnhance.Contrast),
                               (TF.adjust_saturation, ImageEnhance.Color)):
        np.testing.assert_array_equal(np.asarray(function(image, 0.6)),
                                      np.asarray(enhancer(image).enhance(0.6)))
    red = Image.new("RGB", (2, 2), (255, 0, 0))
    r, g, b = np.asarray(TF.adjust_hue(red, 0.5))[0, 0]
    assert r < 10 and g > 240 and b > 240  # half way round the colour wheel: cyan
    gray = Image.new("L", (2, 2), 90)
    assert TF.adjust_hue(gray, 0.3) is gray


def test_adjust_functions_reject_bad_factors():
    x = ember.tensor(rgb_floats())
    with pytest.raises(ValueError, match="brightness_factor \\(-1\\) is not non-negative"):
        TF.adjust_brightness(x, -1)
    with pytest.raises(ValueError, match="hue_factor \\(0.7\\) is not in \\[-0.5, 0.5\\]"):
        TF.adjust_hue(x, 0.7)
    with pytest.raises(TypeError, match="1 or 3 channels"):
        TF.adjust_contrast(ember.rand(2, 3, 3), 0.5)


def test_color_jitter_is_seeded_and_draws_within_its_ranges():
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 0.9), saturation=0, hue=0.1)
    assert jitter.brightness == (0.6, 1.4) and jitter.saturation is None
    ember.manual_seed(1)
    order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast,
                                                 jitter.saturation, jitter.hue)
    assert sorted(order) == [0, 1, 2, 3]
    assert 0.6 <= b <= 1.4 and 0.5 <= c <= 0.9 and s is None and -0.1 <= h <= 0.1
    x = ember.tensor(rgb_floats(5))
    ember.manual_seed(1)
    first = jitter(x).numpy()
    ember.manual_seed(1)
    np.testing.assert_array_equal(jitter(x).numpy(), first)
    # The same factors applied by hand, in the drawn order, give the same image.
    expected = x
    adjust = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue)
    for k in order:
        if (b, c, s, h)[k] is not None:
            expected = adjust[k](expected, (b, c, s, h)[k])
    np.testing.assert_array_equal(first, expected.numpy())


def test_color_jitter_rejects_bad_ranges():
    with pytest.raises(ValueError, match="must be non negative"):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match="hue values should be between \\(-0.5, 0.5\\)"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="list/tuple with length 2"):
        T.ColorJitter(contrast=(0.1, 0.2, 0.3))
