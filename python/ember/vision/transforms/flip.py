"""RandomHorizontalFlip and RandomVerticalFlip: a mirror image with probability p."""
from . import functional_geometry as F
from .probability import WithProbability


class RandomHorizontalFlip(WithProbability):
    def __init__(self, p=0.5):
        super().__init__(p)

    def apply_transform(self, img):
        return F.hflip(img)


class RandomVerticalFlip(WithProbability):
    def __init__(self, p=0.5):
        super().__init__(p)

    def apply_transform(self, img):
        return F.vflip(img)
