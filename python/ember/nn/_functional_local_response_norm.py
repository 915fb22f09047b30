"""F.local_response_norm: each value divided by (k + alpha * mean of the squares over a window
of `size` neighbouring channels)^beta, the window zero-padded at the edges as PyTorch pads it
(size // 2 channels before, (size - 1) // 2 after; the mean always divides by size)."""
from __future__ import annotations

import numpy as np

from .. import functions as _fn
from ..tensor import Tensor


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across the channels (dim 1) of (N, C, *) input."""
    op = "local_response_norm"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"{op}: Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions, shape {tuple(input.shape)})")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{op}: size must be a positive integer. Received: size={size!r}")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    # Padding beyond `channels` on either side adds only zeros to every window: clamped, a huge
    # size costs no more than size = 2 * channels + 1 (it still divides by the given size).
    before, after = min(size // 2, channels), min((size - 1) // 2, channels)

    def zeros(n):
        shape = (input.shape[0], n) + tuple(input.shape[2:])
        return Tensor._from_op(np.zeros(shape, dtype=input._array.dtype), None)
    squares = input * input
    parts = ([zeros(before)] if before else []) + [squares] + ([zeros(after)] if after else [])
    padded = _fn.cat(parts, 1) if len(parts) > 1 else squares
    window_sum = padded[:, 0:channels]
    for offset in range(1, before + after + 1):  # channel c sums padded c .. c + before + after
        window_sum = window_sum + padded[:, offset:offset + channels]
    return input / (window_sum * (float(alpha) / size) + float(k)) ** float(beta)
