"""Resize, pad, crop and flip PIL images and tensor images (..., C, H, W).

Resizing a tensor with a filter (bilinear, bicubic) runs Pillow on each channel plane:
torchvision's antialiased tensor kernels are built to match Pillow's. Plain bilinear
(antialias=False) is ember's nn.functional.interpolate.
"""
import numbers

import numpy as np

from ...creation import from_numpy
from ...nn.functional import interpolate
from ...tensor import Tensor
from .._pillow import pil_image_module
from ._image import (as_pair, check_image, get_dimensions, map_planes, pil_from_array,
                     tensor_array, to_tensor_image)
from .interpolation import InterpolationMode, as_interpolation_mode, pil_filter

PAD_MODES = ("constant", "edge", "reflect", "symmetric")


# ---- resize -----------------------------------------------------------------------------------
def _resized_output_size(height, width, size, max_size, op):
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size]
    if not isinstance(size, (list, tuple)) or len(size) not in (1, 2) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"{op}: size should be a positive int or a sequence of one or two "
                         f"positive ints. Got {size!r}")
    if len(size) == 2:
        if max_size is not None:
            raise ValueError(f"{op}: max_size should only be passed if size specifies the "
                             f"length of the smaller edge, i.e. size should be an int or a "
                             f"sequence of length 1. Got size={size!r}")
        return [size[0], size[1]]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"{op}: max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size!r}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_h, new_w]


def _nearest_indices(out_size, in_size, exact):
    scale = in_size / out_size
    offset = 0.5 if exact else 0.0
    positions = np.floor((np.arange(out_size) + offset) * scale).astype(np.int64)
    return np.minimum(positions, in_size - 1)


def _bilinear_without_antialias(array, out_h, out_w):
    """Plain bilinear (align_corners=False) through ember's interpolate; integer images are
    resampled as float32 and rounded back, as torchvision does."""
    work = array if array.dtype.kind == "f" else array.astype(np.float32)
    batch = work.reshape(-1, 1, *work.shape[-2:])
    out = interpolate(from_numpy(np.ascontiguousarray(batch)), size=(out_h, out_w),
                      mode="bilinear", align_corners=False)._array
    if array.dtype.kind != "f":
        out = np.round(out)
    return out.reshape(*array.shape[:-2], out_h, out_w).astype(array.dtype, copy=False)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes to size (h, w), or the smaller edge to size (an int) keeping the aspect ratio."""
    check_image(img, "resize")
    interpolation = as_interpolation_mode(interpolation, "resize")
    _, height, width = get_dimensions(img)
    out_h, out_w = _resized_output_size(height, width, size, max_size, "resize")
    if [out_h, out_w] == [height, width]:
        return img
    if not isinstance(img, Tensor):
        return img.resize((out_w, out_h), pil_filter(interpolation))
    array = tensor_array(img, "resize")
    if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = interpolation == InterpolationMode.NEAREST_EXACT
        rows = _nearest_indices(out_h, height, exact)
        cols = _nearest_indices(out_w, width, exact)
        return to_tensor_image(array[..., rows[:, None], cols[None, :]])
    if interpolation not in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"resize: a tensor image supports nearest, nearest-exact, bilinear and "
                         f"bicubic interpolation, not {interpolation.value}")
    if not antialias:
        if interpolation == InterpolationMode.BICUBIC:
            raise NotImplementedError("resize: ember resizes tensors bicubically with "
                                      "antialias=True only")
        return to_tensor_image(_bilinear_without_antialias(array, out_h, out_w))
    filter_number = pil_filter(interpolation)
    return to_tensor_image(map_planes(array, "resize",
                                      lambda image, k: image.resize((out_w, out_h), filter_number)))


# ---- pad and crop -----------------------------------------------------------------------------
def parse_padding(padding, op):
    if isinstance(padding, int) and not isinstance(padding, bool):
        return [padding] * 4
    if isinstance(padding, (tuple, list)) and len(padding) in (1, 2, 4) and all(
            isinstance(p, int) and not isinstance(p, bool) for p in padding):
        if len(padding) == 1:
            return [padding[0]] * 4
        if len(padding) == 2:
            return [padding[0], padding[1], padding[0], padding[1]]
        return list(padding)
    raise ValueError(f"{op}: padding should be an int or a sequence of 1, 2 or 4 ints "
                     f"(left, top, right, bottom). Got {padding!r}")


def _pad_array(array, left, top, right, bottom, fill, padding_mode, layout):
    """Pads the H and W axes of a tensor's (..., C, H, W) or a PIL image's (H, W[, C]) array;
    negative values crop."""
    if layout == "hwc":
        h_axis, w_axis, channel_axis = 0, 1, (2 if array.ndim == 3 else None)
    else:
        h_axis, w_axis = array.ndim - 2, array.ndim - 1
        channel_axis = array.ndim - 3 if array.ndim >= 3 else None
    crop = [slice(None)] * array.ndim
    crop[h_axis] = slice(max(-top, 0), array.shape[h_axis] - max(-bottom, 0))
    crop[w_axis] = slice(max(-left, 0), array.shape[w_axis] - max(-right, 0))
    array = array[tuple(crop)]
    widths = [(0, 0)] * array.ndim
    widths[h_axis] = (max(top, 0), max(bottom, 0))
    widths[w_axis] = (max(left, 0), max(right, 0))
    if padding_mode != "constant":
        return np.pad(array, widths, mode=padding_mode)
    out_shape = [n + a + b for n, (a, b) in zip(array.shape, widths)]
    fill = np.asarray(fill, dtype=array.dtype)
    if fill.ndim and channel_axis is not None:  # one value per channel
        shape = [1] * array.ndim
        shape[channel_axis] = -1
        fill = fill.reshape(shape)
    out = np.empty(out_shape, array.dtype)
    out[...] = fill
    inner = tuple(slice(a, a + n) for n, (a, _) in zip(array.shape, widths))
    out[inner] = array
    return out


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads (left, top, right, bottom) with `fill` or by edge/reflect/symmetric copies."""
    check_image(img, "pad")
    left, top, right, bottom = parse_padding(padding, "pad")
    if padding_mode not in PAD_MODES:
        raise ValueError(f"pad: padding_mode should be one of {PAD_MODES}. "
                         f"Got {padding_mode!r}")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"pad: fill should be a number or a tuple. Got {type(fill).__name__}")
    if isinstance(img, Tensor):
        array = tensor_array(img, "pad")
        return to_tensor_image(_pad_array(array, left, top, right, bottom, fill, padding_mode,
                                          "chw"))
    array = np.asarray(img)
    if img.mode == "P" and padding_mode == "constant" and not isinstance(fill, numbers.Number):
        raise ValueError("pad: a palette image takes one palette index as fill")
    return pil_from_array(_pad_array(array, left, top, right, bottom, fill, padding_mode,
                                     "hwc"), img)


def crop(img, top, left, height, width):
    """The height x width window at (top, left); parts outside the image are zeros."""
    check_image(img, "crop")
    if not isinstance(img, Tensor):
        return img.crop((left, top, left + width, top + height))
    array = tensor_array(img, "crop")
    img_h, img_w = array.shape[-2:]
    right, bottom = left + width, top + height
    inside = array[..., max(top, 0):min(bottom, img_h), max(left, 0):min(right, img_w)]
    if left < 0 or top < 0 or right > img_w or bottom > img_h:
        inside = _pad_array(inside, max(-left, 0), max(-top, 0), max(right - img_w, 0),
                            max(bottom - img_h, 0), 0, "constant", "chw")
    return to_tensor_image(inside)


def center_crop(img, output_size):
    """The central output_size window, zero-padded first where the image is smaller."""
    check_image(img, "center_crop")
    crop_h, crop_w = as_pair(output_size, "center_crop", "output_size")
    _, img_h, img_w = get_dimensions(img)
    if crop_w > img_w or crop_h > img_h:
        padding = [(crop_w - img_w) // 2 if crop_w > img_w else 0,
                   (crop_h - img_h) // 2 if crop_h > img_h else 0,
                   (crop_w - img_w + 1) // 2 if crop_w > img_w else 0,
                   (crop_h - img_h + 1) // 2 if crop_h > img_h else 0]
        img = pad(img, padding, fill=0)
        _, img_h, img_w = get_dimensions(img)
        if crop_w == img_w and crop_h == img_h:
            return img
    top = int(round((img_h - crop_h) / 2.0))
    left = int(round((img_w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


# ---- flip --------------------------------------------------------------------------
def hflip(img):
    check_image(img, "hflip")
    if not isinstance(img, Tensor):
        return img.transpose(pil_image_module("hflip").Transpose.FLIP_LEFT_RIGHT)
    return to_tensor_image(tensor_array(img, "hflip")[..., ::-1])


def vflip(img):
    check_image(img, "vflip")
    if not isinstance(img, Tensor):
        return img.transpose(pil_image_module("vflip").Transpose.FLIP_TOP_BOTTOM)
    return to_tensor_image(tensor_array(img, "vflip")[..., ::-1, :])
