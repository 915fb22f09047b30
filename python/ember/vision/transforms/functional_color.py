"""Colour conversions of PIL images and tensor images (..., C, H, W)."""
import numpy as np

from ...dtypes import float32
from ...tensor import Tensor
from .._pillow import pil_image_module
from ._image import check_image, pil_from_array, tensor_array, to_tensor_image
from .functional_conversion import convert_image_dtype

# ITU-R 601-2 luma with torchvision's rounding (Pillow's convert("L") uses 0.299).
_LUMA = (0.2989, 0.587, 0.114)


def color_array(img, op):
    array = tensor_array(img, op, min_ndim=3)
    if array.shape[-3] not in (1, 3):
        raise TypeError(f"{op}: Input image tensor should have 1 or 3 channels, got shape "
                        f"{tuple(array.shape)}")
    return array


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
    array = color_array(img, "rgb_to_grayscale")
    if array.shape[-3] == 1:  # already gray: a copy, one channel even for 3 (as torchvision)
        return to_tensor_image(array.copy())
    red, green, blue = (array[..., c, :, :] for c in range(3))
    weights = [np.asarray(w, np.float32 if array.dtype.kind != "f" else array.dtype)
               for w in _LUMA]
    luma = weights[0] * red + weights[1] * green + weights[2] * blue
    gray = luma.astype(array.dtype)[..., None, :, :]
    return to_tensor_image(np.repeat(gray, num_output_channels, axis=-3))


def _check_factor(value, name, low=0.0, high=float("inf")):
    if not low <= value <= high:
        bounds = f"in [{low}, {high}]" if high != float("inf") else "non-negative"
        raise ValueError(f"{name} ({value}) is not {bounds}.")


def blend(array, other, ratio):
    """ratio * array + (1 - ratio) * other, clamped to the dtype's range, in array's dtype."""
    bound = 1.0 if array.dtype.kind == "f" else float(np.iinfo(array.dtype).max)
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    mixed = work.type(ratio) * array.astype(work) + work.type(1.0 - ratio) * other
    return to_tensor_image(np.clip(mixed, 0, bound).astype(array.dtype))


def _adjust(img, factor, op, enhancer, tensor_math):
    """Checks the factor and image; Pillow's ImageEnhance `enhancer` adjusts a PIL image,
    tensor_math(array, img, factor) a tensor image."""
    _check_factor(factor, op.replace("adjust_", "") + "_factor")
    check_image(img, op)
    if not isinstance(img, Tensor):
        from PIL import ImageEnhance
        return getattr(ImageEnhance, enhancer)(img).enhance(factor)
    return tensor_math(color_array(img, op), img, factor)


def _brighten(array, img, factor):
    return blend(array, np.zeros((), np.float32), factor)


def _contrast(array, img, factor):
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    gray = rgb_to_grayscale(img)._array if array.shape[-3] == 3 else array
    return blend(array, gray.astype(work).mean(axis=(-3, -2, -1), keepdims=True, dtype=work),
                  factor)


def _saturate(array, img, factor):
    if array.shape[-3] == 1:
        return img
    return blend(array, rgb_to_grayscale(img)._array, factor)


def adjust_brightness(img, brightness_factor):
    """Multiplies by brightness_factor (0: black, 1: unchanged)."""
    return _adjust(img, brightness_factor, "adjust_brightness", "Brightness", _brighten)


def adjust_contrast(img, contrast_factor):
    """Blends with the mean gray level (0: flat gray, 1: unchanged)."""
    return _adjust(img, contrast_factor, "adjust_contrast", "Contrast", _contrast)


def adjust_saturation(img, saturation_factor):
    """Blends with the grayscale image (0: gray, 1: unchanged)."""
    return _adjust(img, saturation_factor, "adjust_saturation", "Color", _saturate)


def _rgb_to_hsv(rgb):
    red, green, blue = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    same = maxc == minc
    span = maxc - minc
    saturation = span / np.where(same, 1, maxc)
    divisor = np.where(same, 1, span)
    rc, gc, bc = (maxc - red) / divisor, (maxc - green) / divisor, (maxc - blue) / divisor
    hue = np.where(maxc == red, bc - gc,
                   np.where(maxc == green, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.where(same, 0, hue)
    return np.fmod(hue / 6.0 + 1.0, 1.0).astype(rgb.dtype), saturation, maxc


def _hsv_to_rgb(hue, saturation, value):
    sector = np.floor(hue * 6.0)
    frac = hue * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = np.clip(value * (1.0 - saturation * frac), 0.0, 1.0)
    t = np.clip(value * (1.0 - saturation * (1.0 - frac)), 0.0, 1.0)
    table = [(value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value),
             (value, p, q)]
    channels = [np.select([sector == k for k in range(6)], [row[c] for row in table])
                for c in range(3)]
    return np.stack(channels, axis=-3)


def adjust_hue(img, hue_factor):
    """Turns the hue by hue_factor of a full circle (in [-0.5, 0.5])."""
    _check_factor(hue_factor, "hue_factor", -0.5, 0.5)
    check_image(img, "adjust_hue")
    if not isinstance(img, Tensor):
        if img.mode in ("L", "1", "I", "F"):
            return img
        image_module = pil_image_module("adjust_hue")
        hue, saturation, value = img.convert("HSV").split()
        shift = np.uint8(int(hue_factor * 255) % 256)  # whole steps of the 0..255 hue wheel
        turned = image_module.fromarray(np.asarray(hue, np.uint8) + shift, "L")
        return image_module.merge("HSV", (turned, saturation, value)).convert(img.mode)
    array = color_array(img, "adjust_hue")
    if array.shape[-3] == 1:
        return img
    floats = convert_image_dtype(img, float32)._array
    hue, saturation, value = _rgb_to_hsv(floats)
    rgb = _hsv_to_rgb((hue + np.float32(hue_factor)) % np.float32(1.0), saturation, value)
    return convert_image_dtype(to_tensor_image(rgb.astype(np.float32)), img.dtype)
