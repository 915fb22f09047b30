"""keras.layers.Resizing and keras.layers.CenterCrop: images to a fixed (height, width).

Both follow Keras 3 on the torch backend: bilinear resizing with half-pixel centres and no
antialiasing, "nearest" as torch's "nearest-exact"; integer images come back rounded in their
own dtype from Resizing and as float32 from CenterCrop, as in Keras."""
from __future__ import annotations

import numpy as np

import ember
from ..conv_utils import standardize_data_format
from ..layer import Layer
from .image_utils import (check_positive_int, float_input, image_axes, is_number, resize_images,
                          saturate_cast)

_INTERPOLATIONS = ("bilinear", "nearest")
_NOT_IMPLEMENTED = ("bicubic", "lanczos3", "lanczos5", "area", "gaussian", "lanczos",
                    "mitchellcubic")


def _image_output_shape(input_shape, height, width, data_format):
    shape = list(input_shape)
    h_axis, _ = image_axes("compute_output_shape", shape, data_format)
    shape[h_axis], shape[h_axis + 1] = height, width
    return tuple(shape)


class Resizing(Layer):
    """Resizes images (N, H, W, C) / (N, C, H, W), or one image, to (height, width); with
    ``crop_to_aspect_ratio`` the largest central window of the target aspect ratio is resized,
    with ``pad_to_aspect_ratio`` the image is padded evenly with ``fill_value`` first."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        self.height = check_positive_int("Resizing", "height", height)
        self.width = check_positive_int("Resizing", "width", width)
        if interpolation in _NOT_IMPLEMENTED:
            raise NotImplementedError(f"Resizing: interpolation={interpolation!r} is not "
                                      f"implemented by ember; it has {_INTERPOLATIONS}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError("Invalid value for argument `interpolation`. Expected one of "
                             f"{_INTERPOLATIONS}. Received: interpolation={interpolation!r}")
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                             f"supported. Received: fill_mode={fill_mode!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                             "be `True`.")
        if not is_number(fill_value):
            raise ValueError(f"Resizing: fill_value must be a number. Received: "
                             f"fill_value={fill_value!r}")
        if antialias and interpolation == "bilinear":
            raise NotImplementedError("Resizing: antialias=True (torch's antialiased bilinear "
                                      "downsampling) is not implemented by ember")
        data_format = standardize_data_format("Resizing", data_format)
        super().__init__(**kwargs)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = data_format

    def forward(self, inputs, *args, **kwargs):
        if not isinstance(inputs, ember.Tensor):
            array = np.asarray(inputs)
            if array.dtype.kind in "iu":  # keep integer images (Layer.forward makes float32)
                inputs = ember.from_numpy(np.ascontiguousarray(array))
        return super().forward(inputs, *args, **kwargs)

    def call(self, inputs):
        images, int_dtype = float_input(inputs)
        resized = resize_images("Resizing", images, self.height, self.width,
                                self.interpolation, self.crop_to_aspect_ratio,
                                self.pad_to_aspect_ratio, self.fill_value, self.data_format)
        return resized if int_dtype is None else saturate_cast(resized, int_dtype)

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height": self.height,
                "width": self.width, "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(Layer):
    """The central (height, width) window; an image smaller than that on either side is first
    cropped to the target aspect ratio and resized bilinearly (Keras' smart_resize)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        self.height = check_positive_int("CenterCrop", "height", height)
        self.width = check_positive_int("CenterCrop", "width", width)
        data_format = standardize_data_format("CenterCrop", data_format)
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        images, _ = float_input(inputs)
        h_axis, w_axis = image_axes("CenterCrop", images.shape, self.data_format)
        h_diff = images.shape[h_axis] - self.height
        w_diff = images.shape[w_axis] - self.width
        if h_diff < 0 or w_diff < 0:
            return resize_images("CenterCrop", images, self.height, self.width,
                                 crop_to_aspect_ratio=True, data_format=self.data_format)
        top, left = h_diff // 2, w_diff // 2
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        if self.data_format == "channels_first":
            return images[..., rows, cols]
        return images[..., rows, cols, :]

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height": self.height,
                "width": self.width}
