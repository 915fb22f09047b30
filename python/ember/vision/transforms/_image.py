"""What the transforms share: telling PIL images from tensor images and moving between a
tensor image (..., C, H, W) and its NumPy array."""
import numpy as np

from ... import autograd
from ...creation import from_numpy
from ...tensor import Tensor
from .._pillow import is_pil_image, pil_image_module


def check_image(img, op):
    if not (isinstance(img, Tensor) or is_pil_image(img)):
        raise TypeError(f"{op}: img should be a PIL Image or an ember Tensor. "
                        f"Got {type(img).__name__}")


def tensor_array(img, op, min_ndim=2):
    """The array of a tensor image; its transforms work on data, so no gradient flows through."""
    if img.requires_grad and autograd.is_grad_enabled():
        raise NotImplementedError(
            f"{op}: ember's image transforms are not differentiable; the tensor requires grad "
            "(call .detach() first, or run under ember.no_grad())")
    if img.ndim < min_ndim:
        raise ValueError(f"{op}: expected a tensor image of shape (..., C, H, W) or (H, W), "
                         f"got shape {tuple(img.shape)}")
    return img._array


def to_tensor_image(array):
    return from_numpy(np.ascontiguousarray(array))


def get_dimensions(img):
    """[channels, height, width] of a PIL image or a tensor image, as torchvision returns."""
    check_image(img, "get_dimensions")
    if isinstance(img, Tensor):
        shape = img.shape
        if len(shape) < 2:
            raise ValueError(f"get_dimensions: expected a tensor image of shape (..., C, H, W) "
                             f"or (H, W), got shape {tuple(shape)}")
        channels = 1 if len(shape) == 2 else shape[-3]
        return [channels, shape[-2], shape[-1]]
    return [len(img.getbands()), img.height, img.width]


def get_image_size(img):
    """[width, height], as torchvision's get_image_size."""
    _, height, width = get_dimensions(img)
    return [width, height]


def pil_from_array(array, like):
    """A PIL image of `like`'s mode (and palette) holding `array` (H x W [x C])."""
    image_module = pil_image_module("ember.vision.transforms")
    if like.mode == "1":
        out = image_module.fromarray(array.astype(bool))
    else:
        out = image_module.fromarray(np.ascontiguousarray(array), mode=like.mode)
    if like.mode == "P":
        out.putpalette(like.getpalette())
    return out


def as_pair(size, op, name="size"):
    """(h, w) from an int or a sequence of one or two ints, as torchvision reads sizes."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size, size
    if isinstance(size, (tuple, list)) and len(size) in (1, 2) and all(
            isinstance(s, int) and not isinstance(s, bool) for s in size):
        return (size[0], size[0]) if len(size) == 1 else (size[0], size[1])
    raise ValueError(f"{op}: {name} should be an int or a sequence of one or two ints. "
                     f"Got {size!r}")


def float_pair(value, op, name):
    """(low, high) from a sequence of two numbers (scale and ratio arguments)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise TypeError(f"{op}: {name} should be a sequence of length 2. Got {value!r}")
    return tuple(float(v) for v in value)


def map_planes(array, op, apply):
    """Runs apply(pil_image, k) on each H x W plane k of a tensor image's array through
    Pillow: uint8 planes as mode "L" (Pillow's fixed-point path, which torchvision's uint8
    kernels match), others as float32 mode "F"; the result keeps the array's dtype."""
    image_module = pil_image_module(f"ember.vision.transforms.{op} of a tensor")
    as_bytes = array.dtype == np.uint8
    planes = array.reshape(-1, *array.shape[-2:])
    out = []
    for k, plane in enumerate(planes):
        plane = plane if as_bytes else plane.astype(np.float32)
        image = image_module.fromarray(np.ascontiguousarray(plane))
        out.append(np.asarray(apply(image, k)))
    out = np.stack(out).astype(array.dtype, copy=False)
    return out.reshape(*array.shape[:-2], *out.shape[-2:])
