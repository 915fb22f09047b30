"""Indexing: Gather (an embedding lookup when it picks rows of a float matrix), Slice, Split."""
from __future__ import annotations

import numpy as np

from ...arrange_functions import flip
from ...indexing import index_select
from ...nn import functional as F
from .registry import register
from .values import axes_of, axis_of, constant, int_list


@register("Gather", since=1)
def gather(node):
    axis = node.int("axis", 0)

    def run(data, indices):
        a = axis_of(axis, data.ndim)
        idx, n = indices._array, data.shape[a]
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Gather indices must be integers, got {idx.dtype}")
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Gather indices must lie in [{-n}, {n - 1}] for axis {a} of data "
                             f"shape {tuple(data.shape)}, got values from {idx.min()} to "
                             f"{idx.max()}")
        idx = np.where(idx < 0, idx + n, idx).astype(np.int64)
        if a == 0 and data.ndim == 2 and data._array.dtype.kind == "f":
            return F.embedding(constant(idx), data)  # ember's embedding kernel
        picked = index_select(data, a, constant(idx.reshape(-1)))
        return picked.reshape(tuple(data.shape[:a]) + idx.shape + tuple(data.shape[a + 1:]))
    return run


@register("Slice", since=1)
def slice_(node):
    if node.version < 10:  # starts, ends and axes as attributes
        fixed = (node.ints("starts"), node.ints("ends"), node.ints("axes", None), None)
    else:
        fixed = None

    def run(x, *args):
        if fixed is not None:
            starts, ends, axes, steps = fixed
        else:
            if len(args) < 2:
                raise ValueError("Slice needs its starts and ends inputs")
            starts, ends = int_list(args[0], "Slice starts"), int_list(args[1], "Slice ends")
            axes = int_list(args[2], "Slice axes") if len(args) > 2 and args[2] is not None \
                else None
            steps = int_list(args[3], "Slice steps") if len(args) > 3 and args[3] is not None \
                else None
        axes = list(range(len(starts))) if axes is None else axes
        steps = [1] * len(starts) if steps is None else steps
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise ValueError(f"Slice starts {starts}, ends {ends}, axes {axes} and steps "
                             f"{steps} must have the same length")
        index = [slice(None)] * x.ndim
        flips = []
        for axis, start, end, step in zip(axes_of(axes, x.ndim), starts, ends, steps):
            index[axis], flipped = _one_axis(x.shape[axis], start, end, step)
            if flipped:
                flips.append(axis)
        if flips:
            x = flip(x, *flips)
        return x[tuple(index)]
    return run


def _one_axis(dim: int, start: int, end: int, step: int) -> tuple:
    """(the Python slice, whether the axis is read reversed) of one axis, clamped as ONNX
    clamps; a negative step reads the flipped axis with the positive step."""
    if step == 0:
        raise ValueError("Slice steps must not be 0")
    start = start + dim if start < 0 else start
    end = end + dim if end < 0 else end
    if step > 0:
        return slice(min(max(start, 0), dim), min(max(end, 0), dim), step), False
    start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    count = max(0, (start - end - step - 1) // -step)
    first = dim - 1 - start
    return slice(first, first + count * -step, -step), True


@register("Split", since=2)
def split(node):
    axis = node.int("axis", 0)
    attr_sizes = node.ints("split", None) if node.version < 13 else None
    parts = node.int("num_outputs", None) if node.version >= 18 else None
    count = len(node.outputs)

    def run(x, sizes=None):
        a = axis_of(axis, x.ndim)
        dim = x.shape[a]
        chosen = int_list(sizes, "Split split") if sizes is not None else attr_sizes
        if chosen is None:
            n = parts if parts is not None else count
            step = -(-dim // n) if parts is not None else dim // n
            if parts is None and step * n != dim:
                raise ValueError(f"Split cannot cut axis {a} of size {dim} into {n} equal parts")
            chosen = [max(0, min(step, dim - i * step)) for i in range(n)]
        if len(chosen) != count or any(s < 0 for s in chosen) or sum(chosen) != dim:
            raise ValueError(f"Split sizes {chosen} must be {count} non-negative sizes adding "
                             f"up to {dim}, the size of axis {a} of shape {tuple(x.shape)}")
        bounds = np.cumsum([0] + chosen)
        index = [slice(None)] * x.ndim
        pieces = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            index[a] = slice(int(start), int(stop))
            pieces.append(x[tuple(index)])
        return tuple(pieces)
    return run
