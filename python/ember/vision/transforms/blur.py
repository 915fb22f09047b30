"""GaussianBlur: a separable Gaussian filter over reflect-padded borders, as torchvision's."""
import numbers

import numpy as np

from ... import nn
from ...tensor import Tensor
from . import functional_conversion as FC
from ._image import check_image, tensor_array, to_tensor_image
from ._random import uniform


def _kernel_1d(size, sigma, dtype):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size).astype(dtype)
    pdf = np.exp(-0.5 * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def _kernel_sizes(kernel_size, op):
    sizes = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(sizes) != 2 or not all(isinstance(k, int) and not isinstance(k, bool)
                                  for k in sizes):
        raise ValueError(f"{op}: kernel_size should be an int or a sequence of two ints. "
                         f"Got {kernel_size!r}")
    if any(k <= 0 or k % 2 == 0 for k in sizes):
        raise ValueError(f"{op}: Kernel size value should be an odd and positive number. "
                         f"Got {kernel_size!r}")
    return sizes


def gaussian_blur(img, kernel_size, sigma=None):
    """Blurs with a kernel_size (x, y) Gaussian of standard deviation sigma (x, y); sigma
    defaults to 0.3 * ((k - 1) * 0.5 - 1) + 0.8 = 0.15 k + 0.35 per axis."""
    check_image(img, "gaussian_blur")
    sizes = _kernel_sizes(kernel_size, "gaussian_blur")
    if sigma is None:
        sigmas = [k * 0.15 + 0.35 for k in sizes]
    else:
        sigmas = [sigma, sigma] if isinstance(sigma, numbers.Real) else list(sigma)
        sigmas = sigmas * 2 if len(sigmas) == 1 else sigmas
        if len(sigmas) != 2 or any(s <= 0 for s in sigmas):
            raise ValueError(f"gaussian_blur: sigma should have positive values, one or two of "
                             f"them. Got {sigma!r}")
    if not isinstance(img, Tensor):
        blurred = gaussian_blur(FC.pil_to_tensor(img), sizes, sigmas)
        return FC.to_pil_image(blurred, mode=img.mode)
    array = tensor_array(img, "gaussian_blur", min_ndim=3)
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    pad_x, pad_y = sizes[0] // 2, sizes[1] // 2
    widths = [(0, 0)] * (array.ndim - 2) + [(pad_y, pad_y), (pad_x, pad_x)]
    padded = np.pad(array.astype(work), widths, mode="reflect")
    kernel_x, kernel_y = _kernel_1d(sizes[0], sigmas[0], work), _kernel_1d(sizes[1], sigmas[1],
                                                                          work)
    height, width = array.shape[-2:]
    rows = sum(kernel_x[k] * padded[..., :, k:k + width] for k in range(sizes[0]))
    out = sum(kernel_y[k] * rows[..., k:k + height, :] for k in range(sizes[1]))
    if array.dtype.kind != "f":
        out = np.round(out)
    return to_tensor_image(out.astype(array.dtype))


class GaussianBlur(nn.Module):
    """gaussian_blur with sigma drawn uniformly from sigma (min, max) at each call."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = tuple(_kernel_sizes(kernel_size, "GaussianBlur"))
        if isinstance(sigma, numbers.Real):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, (list, tuple)) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        return uniform(sigma_min, sigma_max)

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, sigma={self.sigma}"
