"""RandomRotation: rotate by an angle drawn uniformly from degrees."""
import numbers

from ... import nn
from . import functional_affine as F
from ._random import uniform
from .interpolation import InterpolationMode, as_interpolation_mode


def degree_range(degrees, op="RandomRotation"):
    """[-d, d] from a number d, or the two numbers given."""
    if isinstance(degrees, numbers.Real) and not isinstance(degrees, bool):
        if degrees < 0:
            raise ValueError(f"{op}: If degrees is a single number, it must be positive. "
                             f"Got {degrees}")
        return [-float(degrees), float(degrees)]
    if isinstance(degrees, (list, tuple)) and len(degrees) == 2:
        return [float(d) for d in degrees]
    raise ValueError(f"{op}: If degrees is a sequence, it must be of len 2. Got {degrees!r}")


class RandomRotation(nn.Module):
    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        super().__init__()
        self.degrees = degree_range(degrees)
        self.interpolation = as_interpolation_mode(interpolation, "RandomRotation")
        if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
            raise ValueError(f"RandomRotation: center should be a sequence of length 2. "
                             f"Got {center!r}")
        if fill is None:
            fill = 0
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("RandomRotation: Fill should be either a sequence or a number.")
        self.center = center
        self.expand = expand
        self.fill = fill

    @staticmethod
    def get_params(degrees):
        return uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def extra_repr(self):
        return (f"degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}, fill={self.fill}"
                + ("" if self.center is None else f", center={self.center}"))
