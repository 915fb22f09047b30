"""rotate and affine of PIL images (Pillow's own warps) and tensor images (the same Pillow
warp on each channel plane). torchvision resamples tensors with grid_sample: nearest agrees
(tests/test_vision_transforms_geometry.py); bilinear can differ on the rim of the warped
region, where grid_sample blends with zeros and Pillow fills whole pixels."""
import math
import numbers

import numpy as np

from ...tensor import Tensor
from .._pillow import pil_image_module
from ._image import check_image, get_dimensions, map_planes, tensor_array, to_tensor_image
from .interpolation import InterpolationMode, as_interpolation_mode, pil_filter

_WARP_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)


def _fill_per_band(fill, bands, op):
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number):
        return [fill] * bands
    fill = list(fill)
    if len(fill) == 1:
        return fill * bands
    if len(fill) != bands:
        raise ValueError(f"{op}: the number of elements in 'fill' does not match the number "
                         f"of channels of the image ({len(fill)} != {bands})")
    return fill


def _check_warp(img, interpolation, center, op):
    check_image(img, op)
    interpolation = as_interpolation_mode(interpolation, op)
    if interpolation not in _WARP_MODES:
        raise ValueError(f"{op}: interpolation should be nearest, bilinear or bicubic. "
                         f"Got {interpolation.value}")
    if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
        raise ValueError(f"{op}: center should be a sequence of length 2. Got {center!r}")
    return pil_filter(interpolation)


def _warp(img, fill, op, warp):
    """warp(pil_image, fillcolor) on a PIL image, or on each plane of a tensor image."""
    channels = get_dimensions(img)[0]
    fills = _fill_per_band(fill, channels, op)
    if not isinstance(img, Tensor):
        return warp(img, fills[0] if channels == 1 else tuple(fills))
    array = tensor_array(img, op)
    return to_tensor_image(map_planes(array, op,
                                      lambda plane, k: warp(plane, fills[k % channels])))


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotates counter-clockwise by `angle` degrees about `center` (default: the image's)."""
    resample = _check_warp(img, interpolation, center, "rotate")
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"rotate: argument angle should be int or float. Got {type(angle)}")
    return _warp(img, fill, "rotate", lambda image, fillcolor: image.rotate(
        angle, resample, expand, center, fillcolor=fillcolor))


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """Pillow's AFFINE data (output -> input pixel map) for the forward map
    T(translate) C(center) R(angle) S(scale) SHy(shear_y) SHx(shear_x) C^-1, image axes
    (x right, y down), angles in degrees clockwise."""
    rot, shear_x, shear_y = (math.radians(a) for a in (angle, shear[0], shear[1]))
    rotation = np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
    shear_along_y = np.array([[1.0, 0.0], [-math.tan(shear_y), 1.0]])
    shear_along_x = np.array([[1.0, -math.tan(shear_x)], [0.0, 1.0]])
    linear = scale * rotation @ shear_along_y @ shear_along_x
    inverse = np.linalg.inv(linear)
    cx, cy = center
    # input = C + L^-1 (output - C - T)
    offset = np.array([cx, cy]) - inverse @ np.array([cx + translate[0], cy + translate[1]])
    return [inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1]]


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Rotates (clockwise), scales, shears and translates about the centre (or `center`)."""
    resample = _check_warp(img, interpolation, center, "affine")
    if not isinstance(angle, numbers.Real):
        raise TypeError(f"affine: Argument angle should be int or float. Got {type(angle)}")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError(f"affine: Argument translate should be a sequence of length 2. "
                         f"Got {translate!r}")
    if scale <= 0.0:
        raise ValueError(f"affine: Argument scale should be positive. Got {scale}")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    if not isinstance(shear, (list, tuple)) or len(shear) not in (1, 2):
        raise ValueError(f"affine: Shear should be a number or a sequence of length 1 or 2. "
                         f"Got {shear!r}")
    shear = [shear[0], 0.0] if len(shear) == 1 else list(shear)
    _, height, width = get_dimensions(img)
    if center is None:
        center = [width * 0.5, height * 0.5]
    matrix = inverse_affine_matrix(center, angle, translate, scale, shear)
    method = pil_image_module("ember.vision.transforms.affine").Transform.AFFINE
    return _warp(img, fill, "affine", lambda image, fillcolor: image.transform(
        image.size, method, matrix, resample, fillcolor=fillcolor))
