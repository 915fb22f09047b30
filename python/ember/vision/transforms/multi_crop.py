"""FiveCrop and TenCrop: the four corner crops and the central one (and their mirror images),
returned as a tuple, for test-time augmentation."""
from ... import nn
from . import functional_geometry as F
from ._image import as_pair, get_dimensions


def five_crop(img, size):
    """(top-left, top-right, bottom-left, bottom-right, centre) crops of `size`."""
    crop_h, crop_w = as_pair(size, "five_crop")
    _, height, width = get_dimensions(img)
    if crop_w > width or crop_h > height:
        raise ValueError(f"five_crop: Requested crop size {(crop_h, crop_w)} is bigger than "
                         f"input size {(height, width)}")
    return (F.crop(img, 0, 0, crop_h, crop_w),
            F.crop(img, 0, width - crop_w, crop_h, crop_w),
            F.crop(img, height - crop_h, 0, crop_h, crop_w),
            F.crop(img, height - crop_h, width - crop_w, crop_h, crop_w),
            F.center_crop(img, [crop_h, crop_w]))


def ten_crop(img, size, vertical_flip=False):
    """five_crop of the image, then five_crop of its mirror image (vertical or horizontal)."""
    mirrored = F.vflip(img) if vertical_flip else F.hflip(img)
    return five_crop(img, size) + five_crop(mirrored, size)


class FiveCrop(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = as_pair(size, "FiveCrop")

    def forward(self, img):
        return five_crop(img, self.size)

    def extra_repr(self):
        return f"size={self.size}"


class TenCrop(nn.Module):
    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = as_pair(size, "TenCrop")
        self.vertical_flip = vertical_flip

    def forward(self, img):
        return ten_crop(img, self.size, self.vertical_flip)

    def extra_repr(self):
        return f"size={self.size}, vertical_flip={self.vertical_flip}"
