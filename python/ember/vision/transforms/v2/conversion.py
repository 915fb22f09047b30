"""transforms.v2's conversions: ToImage, ToDtype, ToPureTensor."""
import numpy as np

from .... import nn
from ....dtypes import float32
from ....tensor import Tensor
from ..._pillow import is_pil_image
from .. import functional_conversion as F
from .._image import to_tensor_image


class ToImage(nn.Module):
    """A PIL image, an H x W [x C] ndarray or a tensor as a (C, H, W) tensor image of the same
    dtype (values unscaled: uint8 stays uint8)."""

    def forward(self, inpt):
        if isinstance(inpt, Tensor):
            return inpt if inpt.ndim >= 3 else inpt.reshape(1, *inpt.shape)
        if is_pil_image(inpt):
            return F.pil_to_tensor(inpt)
        if isinstance(inpt, np.ndarray):
            array = inpt[:, :, None] if inpt.ndim == 2 else inpt
            if array.ndim != 3:
                raise ValueError(f"ToImage: expected an H x W or H x W x C array, got shape "
                                 f"{inpt.shape}")
            return to_tensor_image(array.transpose(2, 0, 1))
        raise TypeError(f"ToImage: expected a PIL image, an ndarray or a tensor. "
                        f"Got {type(inpt).__name__}")


class ToDtype(nn.Module):
    """Casts a tensor image to `dtype`; scale=True also rescales the values between the
    dtypes' ranges (uint8 0..255 <-> float 0..1), as ConvertImageDtype."""

    def __init__(self, dtype=float32, scale=False):
        super().__init__()
        if isinstance(dtype, dict):
            raise NotImplementedError("ToDtype: ember.vision transforms take one image; a dict "
                                      "of dtypes per input type is not supported")
        self.dtype = dtype
        self.scale = scale

    def forward(self, inpt):
        if not isinstance(inpt, Tensor):
            raise TypeError(f"ToDtype: expected a tensor image, got {type(inpt).__name__}")
        if self.scale:
            return F.convert_image_dtype(inpt, self.dtype)
        return inpt.to(self.dtype)

    def extra_repr(self):
        return f"dtype={self.dtype}, scale={self.scale}"


class ToPureTensor(nn.Module):
    """The identity here: ember has no tensor subclasses such as tv_tensors.Image."""

    def forward(self, inpt):
        return inpt
