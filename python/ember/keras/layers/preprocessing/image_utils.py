"""Shared pieces of the Keras image preprocessing layers: inputs as float tensors, the
height/width axes of either data format, and Keras' resize (with its crop_to_aspect_ratio and
pad_to_aspect_ratio) on ember.nn.functional.interpolate."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ....nn import functional as F
from ..layer import as_tensor


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive_int(owner, name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer. Received: "
                         f"{name}={value!r}")
    return int(value)


def float_input(inputs):
    """(float tensor, the input's dtype when it was an integer array or tensor, else None)."""
    if isinstance(inputs, ember.Tensor):
        if inputs.dtype.is_floating_point:
            return inputs, None
        return inputs.float(), inputs.dtype.numpy
    array = np.asarray(inputs)
    int_dtype = array.dtype if array.dtype.kind in "iub" else None
    return as_tensor(array), int_dtype


def saturate_cast(images, dtype):
    """Keras' resize of integer images: rounded, clipped to the dtype's range, cast back."""
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    array = np.rint(images.detach().numpy())
    if info is not None:
        array = np.clip(array, info.min, info.max)
    return ember.from_numpy(np.ascontiguousarray(array.astype(dtype)))


def image_axes(owner, shape, data_format):
    """(height axis, width axis) of a rank-3 (one image) or rank-4 (a batch) input shape."""
    if len(shape) not in (3, 4):
        raise ValueError(f"{owner}: expected rank 3 (a single image) or rank 4 (a batch of "
                         f"images) input. Received an input of shape {tuple(shape)}")
    return (-2, -1) if data_format == "channels_first" else (-3, -2)


def batched(images):
    """(the images with a batch axis, whether one was added)."""
    if images.ndim == 3:
        return images.unsqueeze(0), True
    return images, False


def crop_box(height, width, target_height, target_width):
    """Keras' crop_to_aspect_ratio window: (top, left, crop height, crop width)."""
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (int(float(height - crop_height) / 2), int(float(width - crop_width) / 2),
            crop_height, crop_width)


def _slice_hw(images, top, left, height, width, data_format):
    if data_format == "channels_first":
        return images[:, :, top:top + height, left:left + width]
    return images[:, top:top + height, left:left + width, :]


def _pad_to_aspect_ratio(images, target_height, target_width, fill_value, data_format):
    """Keras' even padding of the short side with fill_value (on (N, C, H, W) or (N, H, W, C))."""
    h_axis, w_axis = (2, 3) if data_format == "channels_first" else (1, 2)
    height, width = images.shape[h_axis], images.shape[w_axis]
    pad_height = max(height, int(float(width * target_height) / target_width))
    pad_width = max(width, int(float(height * target_width) / target_height))
    for axis, pad in ((h_axis, int(float(pad_height - height) / 2)),
                      (w_axis, int(float(pad_width - width) / 2))):
        if pad > 0:
            shape = list(images.shape)
            shape[axis] = pad
            border = ember.full(tuple(shape), float(fill_value), dtype=images.dtype)
            images = ember.cat([border, images, border], dim=axis)
    return images


def resize_images(owner, images, height, width, interpolation="bilinear",
                  crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0,
                  data_format="channels_last"):
    """Keras' image.resize on the torch backend: bilinear with half-pixel centres
    (align_corners=False, no antialiasing) or "nearest" as torch's "nearest-exact"."""
    images, unbatched = batched(images)
    h_axis, w_axis = image_axes(owner, images.shape, data_format)
    in_height, in_width = images.shape[h_axis], images.shape[w_axis]
    if crop_to_aspect_ratio:
        top, left, crop_height, crop_width = crop_box(in_height, in_width, height, width)
        images = _slice_hw(images, top, left, crop_height, crop_width, data_format)
    elif pad_to_aspect_ratio:
        images = _pad_to_aspect_ratio(images, height, width, fill_value, data_format)
    if interpolation == "bilinear":
        out = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False,
                            channels_last=data_format == "channels_last")
    else:
        out = F.interpolate(images, size=(height, width), mode="nearest-exact",
                            channels_last=data_format == "channels_last")
    return out.squeeze(0) if unbatched else out
