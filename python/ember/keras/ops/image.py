"""keras.ops.image: ``resize`` (bilinear and nearest, as Keras on torch computes them)."""
from __future__ import annotations

from ...nn import functional as F
from .. import config
from .core import as_float

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact"}


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Images (batch, height, width, channels) or one image (height, width, channels) (or
    channels first) resized to ``size`` = (height, width)."""
    if interpolation not in _MODES:
        raise NotImplementedError(f"keras.ops.image.resize: interpolation={interpolation!r} "
                                  "is not supported by ember (bilinear and nearest are)")
    for name, value in (("antialias", antialias), ("crop_to_aspect_ratio", crop_to_aspect_ratio),
                        ("pad_to_aspect_ratio", pad_to_aspect_ratio)):
        if value:
            raise NotImplementedError(f"keras.ops.image.resize: {name}=True is not supported "
                                      "by ember")
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"keras.ops.image.resize: invalid data_format={data_format!r}")
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"keras.ops.image.resize: size must be (height, width) of positive "
                         f"integers. Received: size={size!r}")
    images = as_float(images)
    if images.dim() not in (3, 4):
        raise ValueError("keras.ops.image.resize: images must be 3-D (one image) or 4-D (a "
                         f"batch). Received: images.shape={tuple(images.shape)}")
    single = images.dim() == 3
    x = images.unsqueeze(0) if single else images
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)
    out = F.interpolate(x, size=size, mode=_MODES[interpolation],
                        align_corners=False if interpolation == "bilinear" else None)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    return out[0] if single else out


__all__ = ["resize"]
