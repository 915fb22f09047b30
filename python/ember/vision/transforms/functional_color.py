"""Colour conversions of PIL images and tensor images (..., C, H, W)."""
import numpy as np

from ...tensor import Tensor
from ._image import check_image, pil_from_array, tensor_array, to_tensor_image

# ITU-R 601-2 luma, the weights Pillow's convert("L") and torchvision use.
_LUMA = (0.2989, 0.587, 0.114)


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma of an RGB image, as 1 channel or repeated to 3."""
    check_image(img, "rgb_to_grayscale")
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels should be either 1 or 3. "
                         f"Got {num_output_channels!r}")
    if not isinstance(img, Tensor):
        gray = img.convert("L")
        if num_output_channels == 1:
            return gray
        return pil_from_array(np.dstack([np.asarray(gray)] * 3), img.convert("RGB"))
    array = tensor_array(img, "rgb_to_grayscale", min_ndim=3)
    channels = array.shape[-3]
    if channels not in (1, 3):
        raise TypeError(f"rgb_to_grayscale: Input image tensor should have 1 or 3 channels, "
                        f"got shape {tuple(array.shape)}")
    if channels == 1:
        gray = array
    else:
        red, green, blue = (array[..., c, :, :] for c in range(3))
        weights = [np.asarray(w, np.float32 if array.dtype.kind != "f" else array.dtype)
                   for w in _LUMA]
        luma = weights[0] * red + weights[1] * green + weights[2] * blue
        gray = luma.astype(array.dtype)[..., None, :, :]
    return to_tensor_image(np.repeat(gray, num_output_channels, axis=-3))
