"""Grayscale: an RGB image's luma, as 1 or 3 channels."""
from ... import nn
from . import functional_color as F


class Grayscale(nn.Module):
    def __init__(self, num_output_channels=1):
        super().__init__()
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be either 1 or 3. "
                             f"Got {num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def extra_repr(self):
        return f"num_output_channels={self.num_output_channels}"
