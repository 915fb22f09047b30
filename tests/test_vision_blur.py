"""GaussianBlur / gaussian_blur against a direct 2-D NumPy convolution and PyTorch's conv2d."""
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF

Image = pytest.importorskip("PIL.Image")


def gaussian(size, sigma):
    x = np.arange(size) - (size - 1) / 2
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def blur_reference(x, kx, ky, sx, sy):
    """Each output pixel: the kernel-weighted sum of the reflect-padded neighbourhood."""
    kernel = np.outer(gaussian(ky, sy), gaussian(kx, sx))
    padded = np.pad(x.astype(np.float64), [(0, 0)] * (x.ndim - 2) + [(ky // 2,) * 2,
                                                                     (kx // 2,) * 2],
                    mode="reflect")
    out = np.zeros(x.shape)
    for i in range(x.shape[-2]):
        for j in range(x.shape[-1]):
            out[..., i, j] = (padded[..., i:i + ky, j:j + kx] * kernel).sum(axis=(-2, -1))
    return out


def test_gaussian_blur_matches_a_direct_convolution():
    x = np.random.default_rng(0).random((2, 3, 9, 11)).astype(np.float32)
    out = TF.gaussian_blur(ember.tensor(x), [5, 3], [1.5, 0.7])
    assert out.dtype == ember.float32 and tuple(out.shape) == x.shape
    np.testing.assert_allclose(out.numpy(), blur_reference(x, 5, 3, 1.5, 0.7), atol=1e-6)


def test_gaussian_blur_default_sigma_and_uint8_rounding():
    x = np.random.default_rng(1).integers(0, 256, (3, 8, 8)).astype(np.uint8)
    out = TF.gaussian_blur(ember.tensor(x), 3)
    sigma = 3 * 0.15 + 0.35
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), np.round(blur_reference(x, 3, 3, sigma, sigma)))


def test_gaussian_blur_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((1, 3, 10, 12)).astype(np.float32)
    k1x = torch.tensor(gaussian(7, 2.0), dtype=torch.float32)
    k1y = torch.tensor(gaussian(5, 1.0), dtype=torch.float32)
    kernel = torch.outer(k1y, k1x).expand(3, 1, 5, 7)
    padded = torch.nn.functional.pad(torch.from_numpy(x), [3, 3, 2, 2], mode="reflect")
    expected = torch.nn.functional.conv2d(padded, kernel, groups=3)
    out = TF.gaussian_blur(ember.tensor(x), [7, 5], [2.0, 1.0])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)


def test_gaussian_blur_of_a_pil_image_goes_through_the_tensor_path():
    pixels = np.random.default_rng(3).integers(0, 256, (6, 7, 3)).astype(np.uint8)
    out = TF.gaussian_blur(Image.fromarray(pixels), [3, 3], [1.0, 1.0])
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    expected = TF.gaussian_blur(ember.tensor(pixels.transpose(2, 0, 1).copy()), 3, 1.0)
    np.testing.assert_array_equal(np.asarray(out), expected.numpy().transpose(1, 2, 0))


def test_gaussian_blur_transform_draws_sigma_and_checks_arguments():
    blur = T.GaussianBlur(kernel_size=(5, 3), sigma=(0.5, 1.5))
    x = ember.rand(3, 8, 8)
    ember.manual_seed(4)
    out = blur(x)
    ember.manual_seed(4)
    sigma = T.GaussianBlur.get_params(0.5, 1.5)
    assert 0.5 <= sigma <= 1.5 and math.isfinite(sigma)
    np.testing.assert_array_equal(out.numpy(), TF.gaussian_blur(x, [5, 3], [sigma, sigma])
                                  .numpy())
    assert repr(T.GaussianBlur(3)) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="positive and of the form \\(min, max\\)"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="sigma should have positive values"):
        TF.gaussian_blur(x, 3, -1.0)
