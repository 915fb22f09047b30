"""RandomInvert, RandomPosterize, RandomSolarize, RandomAutocontrast and
RandomAdjustSharpness: a photometric function applied with probability p."""
from . import functional_photometric as F
from .probability import WithProbability


class RandomInvert(WithProbability):
    def __init__(self, p=0.5):
        super().__init__(p)

    def apply_transform(self, img):
        return F.invert(img)


class RandomPosterize(WithProbability):
    def __init__(self, bits, p=0.5):
        super().__init__(p)
        self.bits = bits

    def apply_transform(self, img):
        return F.posterize(img, self.bits)

    def extra_repr(self):
        return f"bits={self.bits},p={self.p}"


class RandomSolarize(WithProbability):
    def __init__(self, threshold, p=0.5):
        super().__init__(p)
        self.threshold = threshold

    def apply_transform(self, img):
        return F.solarize(img, self.threshold)

    def extra_repr(self):
        return f"threshold={self.threshold},p={self.p}"


class RandomAutocontrast(WithProbability):
    def __init__(self, p=0.5):
        super().__init__(p)

    def apply_transform(self, img):
        return F.autocontrast(img)


class RandomAdjustSharpness(WithProbability):
    def __init__(self, sharpness_factor, p=0.5):
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def apply_transform(self, img):
        return F.adjust_sharpness(img, self.sharpness_factor)

    def extra_repr(self):
        return f"sharpness_factor={self.sharpness_factor},p={self.p}"
