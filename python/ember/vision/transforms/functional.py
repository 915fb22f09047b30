"""torchvision.transforms.functional: each transform as a plain function."""
from ._image import get_dimensions, get_image_size
from .blur import gaussian_blur
from .erasing import erase
from .functional_affine import affine, rotate
from .functional_color import (adjust_brightness, adjust_contrast, adjust_hue,
                               adjust_saturation, rgb_to_grayscale)
from .functional_conversion import (convert_image_dtype, normalize, pil_to_tensor, to_pil_image,
                                    to_tensor)
from .functional_geometry import center_crop, crop, hflip, pad, resize, resized_crop, vflip
from .functional_photometric import (adjust_sharpness, autocontrast, invert, posterize,
                                     solarize)
from .interpolation import InterpolationMode
from .multi_crop import five_crop, ten_crop


def to_grayscale(img, num_output_channels=1):
    """rgb_to_grayscale under its PIL-era name."""
    return rgb_to_grayscale(img, num_output_channels)


__all__ = ["adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "adjust_sharpness", "affine", "autocontrast", "center_crop", "convert_image_dtype",
           "crop", "erase", "five_crop", "gaussian_blur", "get_dimensions", "get_image_size",
           "hflip", "InterpolationMode", "invert", "normalize", "pad", "pil_to_tensor",
           "posterize", "resize", "resized_crop", "rgb_to_grayscale", "rotate", "solarize",
           "ten_crop", "to_grayscale", "to_pil_image", "to_tensor", "vflip"]
