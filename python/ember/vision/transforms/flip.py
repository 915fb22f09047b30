"""RandomHorizontalFlip and RandomVerticalFlip: a mirror image with probability p."""
from ... import nn
from . import functional_geometry as F
from ._random import rand


class _RandomFlip(nn.Module):
    _flip = None

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if rand() < self.p:
            return type(self)._flip(img)
        return img

    def extra_repr(self):
        return f"p={self.p}"


class RandomHorizontalFlip(_RandomFlip):
    _flip = staticmethod(F.hflip)


class RandomVerticalFlip(_RandomFlip):
    _flip = staticmethod(F.vflip)
