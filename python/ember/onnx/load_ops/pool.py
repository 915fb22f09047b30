"""Pooling: MaxPool, AveragePool (1-D and 2-D; pads, auto_pad, ceil_mode, dilations,
count_include_pad), GlobalAveragePool and GlobalMaxPool (any rank)."""
from __future__ import annotations

import math

from ... import functions as fn
from ...creation import ones
from ...nn import functional as F
from .geometry import pad_pairs, read_window, spatial_rank, torch_pad
from .registry import register

_MAX = {1: F.max_pool1d, 2: F.max_pool2d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d}


def _geometry(window, x, op):
    n = spatial_rank(x, op)
    kernel = window.sizes(window.kernel, n, "kernel_shape")
    strides = window.sizes(window.strides, n, "strides")  # ONNX's default stride is 1
    dilations = window.sizes(window.dilations, n, "dilations")
    before, after = window.resolve(list(x.shape[2:]), kernel, strides, dilations)
    # ember's kernels take (before, after) pairs of at most half the kernel (PyTorch's rule)
    native = all(b <= k // 2 and a <= k // 2 for b, a, k in zip(before, after, kernel))
    return (n, tuple(kernel), tuple(strides), tuple(dilations), pad_pairs(before, after),
            before, after, native)


@register("MaxPool", since=1)
def max_pool(node):
    window, ceil_mode = read_window(node), bool(node.int("ceil_mode", 0))
    if node.int("storage_order", 0) != 0:
        raise node.unsupported("storage_order=1 (column-major indices)")
    if node.wants_output(1):
        raise node.unsupported("MaxPool's Indices output")

    def run(x):
        n, kernel, strides, dilations, pairs, before, after, native = _geometry(window, x,
                                                                                "MaxPool")
        if not native:
            x, pairs = F.pad(x, torch_pad(before, after), value=-math.inf), 0
        return _MAX[n](x, kernel, strides, pairs, dilations, ceil_mode)
    return run


@register("AveragePool", since=1)
def average_pool(node):
    window, ceil_mode = read_window(node), bool(node.int("ceil_mode", 0))
    include_pad = bool(node.int("count_include_pad", 0))
    if window.dilations is not None and any(d != 1 for d in window.dilations):
        raise node.unsupported(f"AveragePool with dilations {window.dilations}")

    def run(x):
        n, kernel, strides, _, pairs, before, after, native = _geometry(window, x, "AveragePool")
        if native:
            return _AVG[n](x, kernel, strides, pairs, ceil_mode, include_pad)
        padded = F.pad(x, torch_pad(before, after))
        total = _AVG[n](padded, kernel, strides, 0, ceil_mode, True)
        if include_pad:
            return total
        # averages over the real cells only: the same pooling of a padded mask of ones
        mask = F.pad(ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype),
                     torch_pad(before, after))
        return total / _AVG[n](mask, kernel, strides, 0, ceil_mode, True)
    return run


@register("GlobalAveragePool", since=1)
def global_average_pool(node):
    return lambda x: fn.mean(x, dim=tuple(range(2, x.ndim)), keepdim=True)


@register("GlobalMaxPool", since=1)
def global_max_pool(node):
    return lambda x: fn.amax(x, dim=tuple(range(2, x.ndim)), keepdim=True)
