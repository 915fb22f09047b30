"""keras.utils.image_dataset_from_directory: images in class folders as NumPy batches of
float32 ``(batch, height, width, channels)`` (a SampleDataset with ``class_names`` and
``file_paths``), with Keras 3's arguments, file order, labels and splits. Images are decoded
by Pillow and resized as keras.ops.image.resize does on the torch backend."""
from __future__ import annotations

import numpy as np

import ember
from ..vision._pillow import pil_image_module
from .layers.preprocessing.image_utils import resize_images
from .utils_directory import (check_format, check_labels_arguments, directory_datasets,
                              index_for_datasets)
from .utils_image import standardize_data_format

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                         "gaussian", "mitchellcubic")


def _image_loader(paths, image_size, color_mode, interpolation, crop, pad, data_format):
    image_module = pil_image_module("keras.utils.image_dataset_from_directory")
    mode = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}[color_mode]

    def load(index):
        with image_module.open(paths[index]) as img:
            if img.mode != mode and not (mode == "L" and img.mode in ("I;16", "I")):
                img = img.convert(mode)
            x = np.asarray(img, dtype="float32")
        if x.ndim == 2:
            x = x[:, :, None]
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
        resized = resize_images("image_dataset_from_directory", ember.from_numpy(
            np.ascontiguousarray(x)), image_size[0], image_size[1], interpolation, crop, pad,
            0.0, data_format)
        return resized.numpy()

    return load


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """A dataset of ``(images, labels)`` batches from ``directory/<class>/<image>`` (or images
    alone with ``labels=None``); with ``subset="both"`` a [training, validation] pair."""
    labels, label_mode = check_labels_arguments(labels, label_mode, class_names, "image")
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
                         f"color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in _KERAS_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_KERAS_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if interpolation not in ("bilinear", "nearest"):
        raise NotImplementedError(f"image_dataset_from_directory: interpolation="
                                  f"{interpolation!r} is not supported by ember (bilinear and "
                                  "nearest are)")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    check_format("image_dataset_from_directory", format)
    paths, labels, class_names, seed = index_for_datasets(
        directory, labels, label_mode, class_names, ALLOWLIST_FORMATS, (validation_split, subset),
        shuffle, seed, follow_links, verbose)
    data_format = standardize_data_format(data_format)

    return directory_datasets(
        directory, paths, labels, class_names, label_mode, (validation_split, subset),
        batch_size, shuffle, seed,
        lambda subset_paths: _image_loader(subset_paths, image_size, color_mode, interpolation,
                                           crop_to_aspect_ratio, pad_to_aspect_ratio,
                                           data_format),
        ("images", f"Allowed formats: {ALLOWLIST_FORMATS}"))
