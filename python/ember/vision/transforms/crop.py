"""CenterCrop, RandomCrop and RandomResizedCrop."""
import numbers
import warnings

from ... import nn
from . import functional_geometry as F
from ._image import as_pair, float_pair, get_dimensions
from ._random import box_sides, randint
from .interpolation import InterpolationMode, as_interpolation_mode


class CenterCrop(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = as_pair(size, "CenterCrop")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def extra_repr(self):
        return f"size={self.size}"


class RandomCrop(nn.Module):
    """A window of `size` at a random place, after optional padding."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        super().__init__()
        self.size = as_pair(size, "RandomCrop")
        if padding is not None:
            F.parse_padding(padding, "RandomCrop")
        if padding_mode not in F.PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode should be one of {F.PAD_MODES}. "
                             f"Got {padding_mode!r}")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("RandomCrop: Got inappropriate fill arg")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, height, width) of a random crop of output_size."""
        _, h, w = get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return randint(0, h - th + 1), randint(0, w - tw + 1), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        top, left, h, w = self.get_params(img, self.size)
        return F.crop(img, top, left, h, w)

    def extra_repr(self):
        return f"size={self.size}, padding={self.padding}"


class RandomResizedCrop(nn.Module):
    """A crop of random area (scale) and aspect ratio (ratio), resized to `size`."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = as_pair(size, "RandomResizedCrop")
        self.scale = float_pair(scale, "RandomResizedCrop", "scale")
        self.ratio = float_pair(ratio, "RandomResizedCrop", "ratio")
        if self.scale[0] > self.scale[1] or self.ratio[0] > self.ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")  # as torchvision
        self.interpolation = as_interpolation_mode(interpolation, "RandomResizedCrop")
        self.antialias = antialias

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, height, width): ten tries at a random crop, else the central one."""
        _, height, width = get_dimensions(img)
        for _ in range(10):
            w, h = box_sides(height * width, scale, ratio)
            if 0 < w <= width and 0 < h <= height:
                return randint(0, height - h + 1), randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, list(self.size), self.interpolation,
                              antialias=self.antialias)

    def extra_repr(self):
        return (f"size={self.size}, scale={self.scale}, ratio={self.ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias}")
