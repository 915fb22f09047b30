"""Transforms between PIL images, arrays and tensors, and of a tensor's dtype and values."""
from ... import nn
from ...dtypes import float32
from . import functional_conversion as F


class ToTensor:
    """PIL image or H x W x C ndarray -> C x H x W tensor; uint8 becomes float32 in [0, 1]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> C x H x W tensor of the image's dtype, values unscaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """C x H x W tensor or H x W x C ndarray -> PIL image (float tensors scaled by 255)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{self.__class__.__name__}({'' if self.mode is None else f'mode={self.mode}'})"


class ConvertImageDtype(nn.Module):
    """Converts a tensor image to `dtype`, rescaling values to its range."""

    def __init__(self, dtype=float32):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(nn.Module):
    """(tensor - mean) / std per channel: Normalize((0.1307,), (0.3081,))."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def extra_repr(self):
        return f"mean={self.mean}, std={self.std}"
