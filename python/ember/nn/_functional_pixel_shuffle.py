"""F.pixel_shuffle and F.pixel_unshuffle: channels to space and back, as reshapes and one
permutation (their gradients are those of the reshapes and the permutation)."""
from __future__ import annotations

from .. import _core
from ..tensor import Tensor
from .modules.utils import _is_int


def _check(op, input, factor, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(input).__name__}")
    if not _is_int(factor) or factor <= 0:
        raise ValueError(f"{op} expects a positive {name}, but got {factor!r}")
    if input.ndim < 3:
        raise _core.ShapeError(f"{op} expects input to have at least 3 dimensions, but got "
                               f"input with {input.ndim} dimension(s) (shape "
                               f"{tuple(input.shape)})")
    return int(factor)


def pixel_shuffle(input, upscale_factor):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r) with r = upscale_factor."""
    op = "pixel_shuffle"
    r = _check(op, input, upscale_factor, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise _core.ShapeError(f"{op} expects its input's 'channel' dimension to be divisible by "
                               f"the square of upscale_factor, but input.size(-3)={c} is not "
                               f"divisible by {r * r} (input shape {tuple(input.shape)})")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W) with r = downscale_factor."""
    op = "pixel_unshuffle"
    r = _check(op, input, downscale_factor, "downscale_factor")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise _core.ShapeError(f"{op} expects {name} to be divisible by downscale_factor, but "
                                   f"input.size({dim})={size} is not divisible by {r} (input "
                                   f"shape {tuple(input.shape)})")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)
