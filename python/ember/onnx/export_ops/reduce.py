"""Reductions: sum, mean, variance, max/min over dimensions (or all of them)."""
import math

import numpy as np

from ...ops.reduce import MaxAll, MaxDim, Mean, Sum, Var
from .elementwise import operand


def _axes(g, dim):
    if dim is None:
        return None
    rank = len(g.shape(g.op.inputs[0]))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return sorted(int(d) % rank for d in dims) if dims else None


def _reduce(op_type):
    def emit(g):
        p = g.op.params
        dtype = g.trace.info[g.op.outputs[0]][1]
        kind = "ReduceMin" if op_type == "ReduceMax" and not p.get("take_max", True) else op_type
        x = operand(g, 0, dtype)
        g.bind(0, g.reduce(kind, x, _axes(g, p.get("dim")), p.get("keepdim", False)))
    return emit


def _var(g):
    """sum((x - mean)^2) / (n - correction) over the reduced axes, n their fixed size."""
    op, p = g.op, g.op.params
    shape, twin_shape = g.shape(op.inputs[0]), g.twin_shape(op.inputs[0])
    axes = _axes(g, p.get("dim")) or list(range(len(shape)))
    n, correction = math.prod(shape[a] for a in axes), p.get("correction", 1)
    x = g.input(0)
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    squares = g.node("Mul", [centered, centered])
    if correction == 0:  # the mean of the squares: no count needed, any size
        g.bind(0, g.reduce("ReduceMean", squares, axes, p.get("keepdim", False)))
        return
    if n != math.prod(twin_shape[a] for a in axes):
        raise g.error("a variance with correction over an axis that changes with the dynamic "
                      "axes (correction=0 exports at any size)")
    total = g.reduce("ReduceSum", squares, axes, p.get("keepdim", False))
    g.bind(0, g.node("Div", [total, g.scalar(max(n - correction, 0), g.dtype(op.inputs[0]))]))


def _max_dim(g):
    """The values of max(x, dim) or min(x, dim) (ember computes the indices beside the op: a
    graph that uses them is refused where they are used)."""
    op = g.op
    dim, keepdim = int(op.params["dim"]), bool(op.params["keepdim"])
    x, out = g.trace.arrays[op.inputs[0].vid], g.trace.arrays[op.outputs[0]]
    kind = "ReduceMax" if np.array_equal(np.max(x, axis=dim, keepdims=keepdim), out,
                                         equal_nan=True) else "ReduceMin"
    g.bind(0, g.reduce(kind, g.input(0), [dim % x.ndim], keepdim))


EMITTERS = {Sum: _reduce("ReduceSum"), Mean: _reduce("ReduceMean"),
            MaxAll: _reduce("ReduceMax"), Var: _var, MaxDim: _max_dim}
