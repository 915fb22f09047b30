"""RandomErasing: blanks a random rectangle of a tensor image (Zhong et al., 2017)."""
import numbers
import warnings

import numpy as np

from ... import nn
from ...random import default_generator
from ...tensor import Tensor
from ._image import float_pair, tensor_array, to_tensor_image
from ._random import box_sides, rand, randint


def erase(img, i, j, h, w, v, inplace=False):
    """img with the h x w rectangle at (i, j) set to v (a tensor or array broadcastable to it)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"erase: img should be Tensor Image. Got {type(img)}")
    array = tensor_array(img, "erase")
    out = array if inplace else array.copy()
    out[..., i:i + h, j:j + w] = np.asarray(v)
    return img if inplace else to_tensor_image(out)


class RandomErasing(nn.Module):
    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        scale = float_pair(scale, "RandomErasing", "scale")
        ratio = float_pair(ratio, "RandomErasing", "ratio")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")  # as torchvision
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio = p, scale, ratio
        self.value, self.inplace = value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """(i, j, h, w, v) of the rectangle to erase; v is normal noise when value is None.
        After ten misses it returns the whole image, unchanged, as torchvision does."""
        channels, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        for _ in range(10):
            h, w = box_sides(img_h * img_w, scale, ratio)
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = default_generator.rng.standard_normal((channels, h, w), dtype=np.float32)
            else:
                v = np.asarray(value, dtype=np.float32)[:, None, None]
            return randint(0, img_h - h + 1), randint(0, img_w - w + 1), h, w, v
        return 0, 0, img_h, img_w, img._array

    def forward(self, img):
        if rand() >= self.p:
            return img
        if isinstance(self.value, numbers.Number):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = list(self.value)
        channels = img.shape[-3]
        if value is not None and len(value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return erase(img, i, j, h, w, v.astype(img._array.dtype, copy=False), self.inplace)

    def extra_repr(self):
        return (f"p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace}")
