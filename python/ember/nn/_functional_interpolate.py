"""F.interpolate and F.upsample* (PyTorch semantics: argument checks, output sizes, modes)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _core
from .._bounds import check_alloc, check_int64
from ..ops.interpolate import Interpolate, linear_taps, nearest_taps
from ..tensor import Tensor
from ._functional_pool import adaptive_avg_pool1d, adaptive_avg_pool2d

_LINEAR_MODE = {3: "linear", 4: "bilinear", 5: "trilinear"}
_NOT_IMPLEMENTED = ("bicubic", "trilinear", "lanczos")


def _per_dim(value, dim, what, spatial):
    if isinstance(value, (list, tuple)):
        if len(value) != dim:
            raise ValueError(f"interpolate: Input and {what} must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and {what} of {value}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and {what} in "
                             "(o1, o2, ...,oK) format.")
        return list(value)
    return [value] * dim


def _output_size(input, spatial, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, scale factors for the source positions or None), as PyTorch's."""
    dim = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size.")
        sizes = _per_dim(size, dim, "output size", spatial)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
            raise TypeError("interpolate: expected size to be one of int or Tuple[int] or "
                            f"Tuple[int, int], but got size with types {[type(s) for s in sizes]}")
        sizes, scales = [int(s) for s in sizes], None
    else:
        scales = [float(s) for s in _per_dim(scale_factor, dim, "scale_factor", spatial)]
        sizes = [int(n * s) for n, s in zip(spatial, scales)]  # truncation, as PyTorch
        if recompute_scale_factor or mode == "area":
            scales = None
    if min(sizes) <= 0 or min(spatial) <= 0:
        raise _core.ShapeError(f"interpolate: input and output sizes should be greater than 0, "
                               f"but got input {tuple(input.shape)} and output size {sizes}")
    check_int64("interpolate", "the output size", sizes)
    others = input._array.size // math.prod(spatial)  # batch and channels, in either layout
    check_alloc("interpolate", (others, *sizes), input._array.dtype.itemsize)
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False, *, channels_last=False):
    """Resamples the spatial dimensions of (N, C, L) or (N, C, H, W) input (or (N, L, C),
    (N, H, W, C) with channels_last, an ember extension) to `size` or by `scale_factor`; modes
    'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D) and 'area' (adaptive average
    pooling)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be an ember.Tensor, got {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | bicubic | trilinear")
    elif mode in ("linear", "bilinear") + _NOT_IMPLEMENTED:
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not one of nearest | linear | "
                                  "bilinear | bicubic | trilinear | area | nearest-exact")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear "
                                  f"| bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in ("linear", "bilinear", "trilinear") and _LINEAR_MODE[input.ndim] != mode:
        raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs "
                                  f"{list(_LINEAR_MODE.values()).index(mode) + 3}D input")
    first = 1 if channels_last else 2  # the first spatial axis
    spatial = tuple(input.shape[first:first + input.ndim - 2])
    sizes, scales = _output_size(input, spatial, size, scale_factor, recompute_scale_factor, mode)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear, bicubic, and "
                         "lanczos modes and requires a 4-D tensor as input")
    if antialias or mode in _NOT_IMPLEMENTED or input.ndim == 5:
        what = "antialias=True" if antialias else f"mode={mode!r} on {input.ndim}-D input"
        raise NotImplementedError(f"interpolate: ember does not implement {what}; it has "
                                  "nearest, nearest-exact, area (3-D, 4-D), linear (3-D) and "
                                  "bilinear (4-D) without antialias")
    if mode == "area":
        pool = adaptive_avg_pool1d if input.ndim == 3 else adaptive_avg_pool2d
        return pool(input, sizes, channels_last=channels_last)
    dtype = input._array.dtype
    if mode not in ("nearest", "nearest-exact") and dtype.kind != "f":
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for dtype "
                                  f"{input.dtype}")
    taps = []
    for d in reversed(range(len(sizes))):  # the last axis first, as PyTorch's kernel nests them
        in_size, scale = spatial[d], None if scales is None else scales[d]
        if mode in ("nearest", "nearest-exact"):
            axis_taps = nearest_taps(in_size, sizes[d], scale, mode == "nearest-exact",
                                     shortcuts=mode == "nearest" and input.ndim == 4)
        else:
            axis_taps = linear_taps(in_size, sizes[d], scale, align_corners, np.dtype(dtype))
        taps.append((first + d, in_size, axis_taps))
    return Interpolate.apply(input, taps=tuple(taps))


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated in PyTorch in favour of interpolate, which it calls (with the same warning)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
