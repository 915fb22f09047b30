"""Keras' image.affine_transform (torch backend) on ember tensors: each output pixel (y, x)
reads the input at x' = a0 x + a1 y + a2, y' = b0 x + b1 y + b2, by nearest (round half to
even) or bilinear interpolation, out-of-image reads resolved by the fill mode.

The read positions and weights are NumPy constants; the reads are one ``index_select`` on the
flattened images, so gradients flow to the input pixels through ember's autograd."""
from __future__ import annotations

import numpy as np

import ember

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _mirror(index, size):
    s = size - 1  # half-wavelength of the triangular wave
    if s == 0:
        return np.zeros_like(index)
    return np.abs((index + s) % (2 * s) - s)


def _fix_index(index, size, fill_mode):
    """In-range indices for fill_mode (constant reads are masked out afterwards)."""
    if fill_mode in ("constant", "nearest"):
        return np.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return index % size
    return (_mirror(2 * index + 1, 2 * size + 1) - 1) // 2  # reflect


def _taps(coordinate, size, interpolation, fill_mode):
    """[(index, weight, valid)] along one axis for coordinates (float32 array)."""
    if interpolation == "nearest":
        index = np.rint(coordinate).astype(np.int64)
        nodes = [(index, np.float32(1.0))]
    else:
        lower = np.floor(coordinate)
        upper_weight = coordinate - lower
        index = lower.astype(np.int64)
        nodes = [(index, np.float32(1.0) - upper_weight), (index + 1, upper_weight)]
    return [(_fix_index(i, size, fill_mode),
             np.broadcast_to(w, coordinate.shape).astype(np.float32),
             (i >= 0) & (i < size) if fill_mode == "constant" else np.ones(i.shape, bool))
            for i, w in nodes]


def affine_transform(images, transforms, interpolation, fill_mode, fill_value, data_format):
    """images (N, H, W, C) or (N, C, H, W); transforms (N, 8) float32 rows
    [a0, a1, a2, b0, b1, b2, 0, 0] mapping output to input coordinates."""
    if data_format == "channels_first":
        images = images.permute(0, 2, 3, 1)
    n, h, w, c = images.shape
    t = np.asarray(transforms, np.float32).reshape(n, 8, 1, 1)
    rows = np.arange(h, dtype=np.float32).reshape(1, h, 1)
    cols = np.arange(w, dtype=np.float32).reshape(1, 1, w)
    # The order of Keras' float32 sums (an einsum over (row, col), then the offset).
    y_in = (rows * t[:, 4] + cols * t[:, 3]) + t[:, 5]
    x_in = (rows * t[:, 1] + cols * t[:, 0]) + t[:, 2]
    base = (np.arange(n) * (h * w)).reshape(n, 1, 1)
    indices, weights, fill_weight = [], [], np.zeros((n, h, w), np.float32)
    for iy, wy, vy in _taps(y_in, h, interpolation, fill_mode):
        for ix, wx, vx in _taps(x_in, w, interpolation, fill_mode):
            weight = wy * wx
            valid = vy & vx
            indices.append(base + iy * w + ix)
            weights.append(np.where(valid, weight, np.float32(0.0)))
            fill_weight += np.where(valid, np.float32(0.0), weight)
    dtype = images.dtype.numpy
    taps = len(indices)
    index = ember.from_numpy(np.stack(indices, axis=-1).reshape(-1))
    gathered = ember.index_select(images.reshape(n * h * w, c), 0, index)
    gathered = gathered.reshape(n, h, w, taps, c)
    weight = ember.from_numpy(np.stack(weights, axis=-1).astype(dtype)[..., None])
    out = (gathered * weight).sum(dim=3)
    if fill_mode == "constant" and fill_value != 0 and fill_weight.any():
        fill = (fill_weight * np.float32(fill_value)).astype(dtype)[..., None]
        out = out + ember.from_numpy(fill)
    if data_format == "channels_first":
        out = out.permute(0, 3, 1, 2)
    return out
