"""ember.* functions that combine tensors or shapes: hstack, vstack (row_stack), dstack,
column_stack, atleast_1d/2d/3d, broadcast_to, broadcast_tensors, broadcast_shapes and
cartesian_prod, built on cat, reshape and expand, so all are differentiable."""
from __future__ import annotations

import numpy as np

from . import _core
from .functions import cat, reshape, stack
from .meshgrid import meshgrid
from .tensor import Size, Tensor


def _tensors(op, tensors):
    """The tensors of f(t1, t2, ...) or f([t1, t2, ...]), checked."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__} at position {i}")
    return tensors


def _atleast(op, tensors, make):
    tensors = _tensors(op, tensors)
    out = tuple(make(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def atleast_1d(*tensors):
    """0-d tensors become shape (1,); others are returned as they are."""
    return _atleast("atleast_1d", tensors, lambda t: reshape(t, 1) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """0-d -> (1, 1), (n,) -> (1, n)."""
    return _atleast("atleast_2d", tensors,
                    lambda t: reshape(t, 1, -1) if t.ndim == 1 else reshape(t, 1, 1)
                    if t.ndim == 0 else t)


def atleast_3d(*tensors):
    """0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    def make(t):
        if t.ndim >= 3:
            return t
        return reshape(t, *{0: (1, 1, 1), 1: (1, -1, 1), 2: tuple(t.shape) + (1,)}[t.ndim])
    return _atleast("atleast_3d", tensors, make)


def _non_empty(op, tensors):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError(f"{op}: expects a non-empty sequence of tensors")
    return _tensors(op, (tensors,))


def hstack(tensors):
    """Concatenated along dim 1, or along dim 0 when all are 1-D (0-d become 1-D)."""
    tensors = [atleast_1d(t) for t in _non_empty("hstack", tensors)]
    return cat(tensors, 0 if all(t.ndim == 1 for t in tensors) else 1)


def vstack(tensors):
    """Rows stacked: each becomes at least 2-D, then all are concatenated along dim 0."""
    return cat([atleast_2d(t) for t in _non_empty("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors):
    """Stacked depth-wise: each becomes at least 3-D, then all are concatenated along dim 2."""
    return cat([atleast_3d(t) for t in _non_empty("dstack", tensors)], 2)


def column_stack(tensors):
    """0-d and 1-D tensors become columns (n, 1); all are concatenated along dim 1."""
    tensors = _non_empty("column_stack", tensors)
    return cat([reshape(t, -1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise _core.ShapeError(f"broadcast_shapes: shapes {shapes} cannot be broadcast "
                               f"together") from None


def broadcast_to(input, size):
    """input expanded to size (-1 keeps a dimension), as Tensor.expand."""
    return input.expand(*size)


def broadcast_tensors(*tensors):
    """Each tensor expanded to the shape all of them broadcast to."""
    tensors = _tensors("broadcast_tensors", tensors)
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(*shape) for t in tensors)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as rows of an (N, k) tensor (the
    first tensor varies slowest); one tensor is returned as it is."""
    tensors = _tensors("cartesian_prod", tensors)
    for t in tensors:
        if t.ndim != 1:
            raise _core.ShapeError(f"cartesian_prod: expect 1D vector inputs, got shapes "
                                   f"{[tuple(x.shape) for x in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)
