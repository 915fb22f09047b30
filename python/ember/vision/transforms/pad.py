"""Pad: borders of a constant, or edge/reflect/symmetric copies of the image."""
import numbers

from ... import nn
from . import functional_geometry as F


class Pad(nn.Module):
    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        F.parse_padding(padding, "Pad")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Pad: Got inappropriate fill arg")
        if padding_mode not in F.PAD_MODES:
            raise ValueError(f"Pad: Padding mode should be either constant, edge, reflect or "
                             f"symmetric. Got {padding_mode!r}")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def extra_repr(self):
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"
