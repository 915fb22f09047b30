"""InterpolationMode: torchvision's names for resampling filters, and their Pillow numbers."""
from enum import Enum


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's Image.Resampling values; Pillow's nearest samples pixel centres (nearest-exact).
_PIL_FILTERS = {
    InterpolationMode.NEAREST: 0,
    InterpolationMode.NEAREST_EXACT: 0,
    InterpolationMode.LANCZOS: 1,
    InterpolationMode.BILINEAR: 2,
    InterpolationMode.BICUBIC: 3,
    InterpolationMode.BOX: 4,
    InterpolationMode.HAMMING: 5,
}
_FROM_PIL_NUMBER = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS,
                    2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                    4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}


def as_interpolation_mode(value, op):
    """An InterpolationMode from a mode or a Pillow filter number (torchvision takes both)."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in _FROM_PIL_NUMBER:
        return _FROM_PIL_NUMBER[value]
    raise TypeError(f"{op}: interpolation should be an InterpolationMode or a Pillow filter "
                    f"number 0..5. Got {value!r}")


def pil_filter(mode):
    return _PIL_FILTERS[mode]
