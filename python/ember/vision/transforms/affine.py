"""RandomAffine: a random rotation, translation, scale and shear about the image centre."""
import numbers

from ... import nn
from . import functional_affine as F
from ._image import get_dimensions
from ._random import uniform
from .interpolation import InterpolationMode, as_interpolation_mode
from .rotation import degree_range


def _range(value, name, low=None, high=None):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise TypeError(f"RandomAffine: {name} should be a sequence of length 2. Got {value!r}")
    if (low is not None and min(value) < low) or (high is not None and max(value) > high):
        bounds = f"between {low} and {high}" if high is not None else "positive"
        raise ValueError(f"RandomAffine: {name} values should be {bounds}. Got {value!r}")
    return [float(v) for v in value]


def _shear_ranges(shear):
    """[x_low, x_high] or [x_low, x_high, y_low, y_high] from a number or 2 or 4 numbers."""
    if isinstance(shear, numbers.Number) and not isinstance(shear, bool):
        if shear < 0:
            raise ValueError(f"RandomAffine: If shear is a single number, it must be positive. "
                             f"Got {shear}")
        return [-float(shear), float(shear)]
    if isinstance(shear, (list, tuple)) and len(shear) in (2, 4):
        return [float(s) for s in shear]
    raise ValueError(f"RandomAffine: shear should be a number or a sequence of 2 or 4 numbers. "
                     f"Got {shear!r}")


class RandomAffine(nn.Module):
    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        super().__init__()
        self.degrees = degree_range(degrees, "RandomAffine")
        self.translate = None if translate is None else _range(translate, "translate", 0.0, 1.0)
        self.scale = None if scale is None else _range(scale, "scale", low=1e-300)
        self.shear = None if shear is None else _shear_ranges(shear)
        self.interpolation = as_interpolation_mode(interpolation, "RandomAffine")
        if fill is None:
            fill = 0
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("RandomAffine: Fill should be either a sequence or a number.")
        if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
            raise ValueError(f"RandomAffine: center should be a sequence of length 2. "
                             f"Got {center!r}")
        self.fill = fill
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) drawn in torchvision's order;
        img_size is [width, height]."""
        angle = uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx, max_dy = translate[0] * img_size[0], translate[1] * img_size[1]
            translations = (int(round(uniform(-max_dx, max_dx))),
                            int(round(uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = 1.0 if scale_ranges is None else uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        _, height, width = get_dimensions(img)
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, [width, height])
        return F.affine(img, angle, list(translations), scale, list(shear),
                        interpolation=self.interpolation, fill=self.fill, center=self.center)

    def extra_repr(self):
        parts = [f"degrees={self.degrees}"]
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)}")
        if self.interpolation != InterpolationMode.NEAREST:
            parts.append(f"interpolation={self.interpolation.value}")
        if self.fill != 0:
            parts.append(f"fill={self.fill}")
        if self.center is not None:
            parts.append(f"center={self.center}")
        return ", ".join(parts)
