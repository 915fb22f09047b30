"""Shape operators: Reshape Flatten Transpose Squeeze Unsqueeze Concat Shape Expand."""
from __future__ import annotations

import math

import numpy as np

from ... import functions as fn
from ..._bounds import check_alloc
from .registry import register
from .values import axes_of, axis_of, constant, int_list


@register("Reshape", since=5)
def reshape(node):
    allow_zero = bool(node.int("allowzero", 0))

    def run(x, shape):
        target = int_list(shape, "Reshape shape")
        if not allow_zero:  # a 0 copies the input's size at that position
            for i, size in enumerate(target):
                if size == 0:
                    if i >= x.ndim:
                        raise ValueError(f"Reshape shape {target} copies dimension {i} of an "
                                         f"input of shape {tuple(x.shape)}, which has none")
                    target[i] = x.shape[i]
        if sum(s == -1 for s in target) > 1 or any(s < -1 for s in target):
            raise ValueError(f"Reshape shape {target} must have sizes >= 0 and at most one -1")
        return x.reshape(tuple(target))
    return run


@register("Flatten", since=1)
def flatten(node):
    axis = node.int("axis", 1)

    def run(x):
        a = axis_of(axis, x.ndim + 1)  # axis may equal the rank
        return x.reshape(math.prod(x.shape[:a]), math.prod(x.shape[a:]))
    return run


@register("Transpose", since=1)
def transpose(node):
    perm = node.ints("perm", None)

    def run(x):
        order = list(reversed(range(x.ndim))) if perm is None else perm
        if sorted(order) != list(range(x.ndim)):
            raise ValueError(f"perm {order} is not a permutation of the {x.ndim} axes of an "
                             f"input of shape {tuple(x.shape)}")
        return x.permute(*order)
    return run


def _axes(node):
    """(axes from the attribute, whether they come as the second input) by version."""
    if node.version >= 13:
        return None, True
    return node.ints("axes", None), False


@register("Squeeze", since=1)
def squeeze(node):
    attr_axes, as_input = _axes(node)

    def run(x, axes=None):
        chosen = int_list(axes, "Squeeze axes") if as_input and axes is not None else attr_axes
        if chosen is None:
            dims = [i for i, s in enumerate(x.shape) if s == 1]
        else:
            dims = axes_of(chosen, x.ndim)
            if any(x.shape[d] != 1 for d in dims):
                raise ValueError(f"Squeeze axes {chosen} name a dimension of input shape "
                                 f"{tuple(x.shape)} whose size is not 1")
        return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))
    return run


@register("Unsqueeze", since=1)
def unsqueeze(node):
    attr_axes, as_input = _axes(node)
    if not as_input and attr_axes is None:
        raise node.error("the required attribute 'axes' is missing")

    def run(x, axes=None):
        if as_input and axes is None:
            raise ValueError("Unsqueeze needs its axes input")
        chosen = int_list(axes, "Unsqueeze axes") if as_input else attr_axes
        rank = x.ndim + len(chosen)
        new = set(axes_of(chosen, rank))
        sizes = iter(x.shape)
        return x.reshape(tuple(1 if i in new else next(sizes) for i in range(rank)))
    return run


@register("Concat", since=4)
def concat(node):
    axis = node.int("axis")

    def run(*tensors):
        return fn.cat(list(tensors), dim=axis_of(axis, tensors[0].ndim))
    return run


@register("Shape", since=1)
def shape(node):
    start, end = node.int("start", 0), node.int("end", None)
    return lambda x: constant(np.array(x.shape[slice(start, end)], dtype=np.int64))


@register("Expand", since=8)
def expand(node):
    def run(x, shape):
        target = int_list(shape, "Expand shape")
        try:  # ONNX broadcasts both ways: a 1 in `shape` keeps the input's size
            out = np.broadcast_shapes(tuple(x.shape), tuple(target))
        except ValueError:
            raise ValueError(f"Expand shape {target} does not broadcast with input shape "
                             f"{tuple(x.shape)}") from None
        check_alloc("Expand", out, x._array.dtype.itemsize)
        return x.expand(*out) if tuple(out) != tuple(x.shape) else x
    return run
