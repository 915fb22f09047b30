"""invert, posterize, solarize, autocontrast and adjust_sharpness: Pillow's ImageOps and
ImageEnhance for PIL images, torchvision's formulas for tensor images."""
import numpy as np

from ...tensor import Tensor
from ._image import check_image, to_tensor_image
from .functional_color import blend, color_array


def _bound(dtype):
    return 1.0 if dtype.kind == "f" else int(np.iinfo(dtype).max)


def _image_ops(name):
    from PIL import ImageOps
    return getattr(ImageOps, name)


def invert(img):
    """bound - img: each pixel's complement (bound is 1.0 for floats, 255 for uint8)."""
    check_image(img, "invert")
    if not isinstance(img, Tensor):
        return _image_ops("invert")(img)
    array = color_array(img, "invert")
    return to_tensor_image(array.dtype.type(_bound(array.dtype)) - array)


def posterize(img, bits):
    """Keeps the `bits` highest bits of each uint8 channel value."""
    check_image(img, "posterize")
    if not 0 <= bits <= 8:
        raise ValueError(f"posterize: The number of bits should be between 0 and 8. Got {bits}")
    if not isinstance(img, Tensor):
        return _image_ops("posterize")(img, bits)
    array = color_array(img, "posterize")
    if array.dtype != np.uint8:
        raise TypeError(f"posterize: Only uint8 image tensors are supported, but found "
                        f"{img.dtype}")
    return to_tensor_image(array & np.uint8((0xFF << (8 - bits)) & 0xFF))


def solarize(img, threshold):
    """Inverts every pixel at or above threshold."""
    check_image(img, "solarize")
    if not isinstance(img, Tensor):
        return _image_ops("solarize")(img, threshold)
    array = color_array(img, "solarize")
    if threshold > _bound(array.dtype):
        raise TypeError("solarize: Threshold should be less than bound of img.")
    inverted = array.dtype.type(_bound(array.dtype)) - array
    return to_tensor_image(np.where(array >= threshold, inverted, array))


def autocontrast(img):
    """Stretches each channel so its darkest pixel becomes 0 and its lightest the bound."""
    check_image(img, "autocontrast")
    if not isinstance(img, Tensor):
        return _image_ops("autocontrast")(img)
    array = color_array(img, "autocontrast")
    bound = _bound(array.dtype)
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    low = array.min(axis=(-2, -1), keepdims=True).astype(work)
    high = array.max(axis=(-2, -1), keepdims=True).astype(work)
    flat = high == low  # nothing to stretch: left as it is
    scale = np.where(flat, 1, work.type(bound) / np.where(flat, 1, high - low)).astype(work)
    low = np.where(flat, 0, low).astype(work)
    stretched = np.clip((array.astype(work) - low) * scale, 0, bound)
    return to_tensor_image(stretched.astype(array.dtype))


def adjust_sharpness(img, sharpness_factor):
    """Blends with a smoothed copy (0: smooth, 1: unchanged, 2: sharper)."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    check_image(img, "adjust_sharpness")
    if not isinstance(img, Tensor):
        from PIL import ImageEnhance
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    array = color_array(img, "adjust_sharpness")
    if array.shape[-1] <= 2 or array.shape[-2] <= 2:
        return img
    # Pillow's SMOOTH kernel [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13 on the interior; the
    # one-pixel border keeps the original values.
    work = array.astype(array.dtype if array.dtype.kind == "f" else np.float32)
    height, width = array.shape[-2:]
    smooth = 4 * work[..., 1:-1, 1:-1]
    for dy in range(3):
        for dx in range(3):
            smooth = smooth + work[..., dy:dy + height - 2, dx:dx + width - 2]
    smooth = smooth / work.dtype.type(13)
    if array.dtype.kind != "f":
        smooth = np.round(smooth)
    degenerate = work.copy()
    degenerate[..., 1:-1, 1:-1] = smooth
    return blend(array, degenerate, sharpness_factor)
