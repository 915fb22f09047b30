"""torchvision.io's image files: read_image decodes a file into a C x H x W uint8 tensor,
write_png encodes one (Pillow decodes and encodes; torchvision uses libpng/libjpeg, so JPEG
pixels may differ from it by a few levels)."""
from enum import Enum

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor
from ._pillow import pil_image_module


class ImageReadMode(Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}
# Pillow modes read as they are; others (palette, CMYK, 1-bit) become RGB, RGBA or L.
_KEPT_MODES = ("L", "LA", "RGB", "RGBA")


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """The image file at `path` as a uint8 tensor of shape (C, H, W)."""
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"read_image: mode should be an ImageReadMode. Got {mode!r}")
    image_module = pil_image_module("ember.vision.io.read_image")
    with image_module.open(path) as image:
        if apply_exif_orientation:
            from PIL import ImageOps
            image = ImageOps.exif_transpose(image)
        if mode != ImageReadMode.UNCHANGED:
            image = image.convert(_PIL_MODES[mode])
        elif image.mode == "1":
            image = image.convert("L")  # 0 and 255, as libpng expands 1-bit gray
        elif image.mode not in _KEPT_MODES:
            if image.mode.startswith(("I", "F")):
                raise NotImplementedError(f"read_image: ember reads 8-bit images only; "
                                          f"{path} has Pillow mode {image.mode!r}")
            image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode
                                  else "RGB")
        array = np.array(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def write_png(input, filename, compression_level=6):
    """Writes a (C, H, W) uint8 tensor (C = 1 or 3) as a PNG file."""
    if not isinstance(input, Tensor) or input.dtype.name != "uint8" or input.ndim != 3 or \
            input.shape[0] not in (1, 3):
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"write_png: expected a (C, H, W) uint8 tensor with 1 or 3 channels, "
                         f"got {shape}")
    array = input.detach().numpy().transpose(1, 2, 0)
    image_module = pil_image_module("ember.vision.io.write_png")
    image = image_module.fromarray(np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1
                                                        else array))
    image.save(filename, format="PNG", compress_level=compression_level)
