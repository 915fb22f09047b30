"""Arithmetic, comparisons, matrix products and reductions: Add Sub Mul Div Pow Sqrt Erf Exp
Log Neg Abs Reciprocal Equal Where MatMul Gemm ReduceMean."""
from __future__ import annotations

from ... import functions as fn
from ..._core import ShapeError
from ...math_functions import erf, reciprocal
from ...nn import functional as F
from .registry import register
from .values import axes_of, int_list

# since 7 the binary operators broadcast as NumPy does (before, a `broadcast` attribute)
register("Add", since=7)(lambda node: lambda a, b: a + b)
register("Sub", since=7)(lambda node: lambda a, b: a - b)
register("Mul", since=7)(lambda node: lambda a, b: a * b)
register("Equal", since=7)(lambda node: lambda a, b: fn.eq(a, b))
register("Where", since=9)(lambda node: lambda c, a, b: fn.where(c, a, b))
register("MatMul", since=1)(lambda node: fn.matmul)

_UNARY = {"Sqrt": fn.sqrt, "Erf": erf, "Exp": fn.exp, "Log": fn.log, "Neg": fn.neg,
          "Abs": fn.abs, "Reciprocal": reciprocal}
for _name, _fn in _UNARY.items():
    register(_name, since=6)(lambda node, f=_fn: f)


@register("Div", since=7)
def div(node):
    def run(a, b):
        if a._array.dtype.kind in "iu" and b._array.dtype.kind in "iu":
            return fn.div(a, b, rounding_mode="trunc")  # ONNX integer division truncates
        return a / b
    return run


@register("Pow", since=7)
def pow_(node):
    return lambda a, b: fn.pow(a, b)


@register("Gemm", since=7)
def gemm(node):
    alpha, beta = node.float("alpha", 1.0), node.float("beta", 1.0)
    trans_a, trans_b = node.int("transA", 0), node.int("transB", 0)

    def run(a, b, c=None):
        if a.ndim != 2 or b.ndim != 2:
            raise ShapeError(f"Gemm multiplies 2-D matrices, got A of shape {tuple(a.shape)} "
                             f"and B of shape {tuple(b.shape)}")
        if (trans_b and not trans_a and alpha == 1.0 and (c is None or beta == 1.0 and c.ndim
                                                          == 1 and c.shape[0] == b.shape[0])):
            return F.linear(a, b, c)  # a Linear layer: ember's fused kernel
        y = fn.matmul(a.t() if trans_a else a, b.t() if trans_b else b)
        if alpha != 1.0:
            y = y * alpha
        if c is not None:
            y = y + (c * beta if beta != 1.0 else c)
        return y
    return run


@register("ReduceMean", since=1)
def reduce_mean(node):
    keepdims = bool(node.int("keepdims", 1))
    axes_input = node.version >= 18
    attr_axes = None if axes_input else node.ints("axes", None)
    noop = bool(node.int("noop_with_empty_axes", 0)) if axes_input else False

    def run(x, axes=None):
        chosen = int_list(axes, "ReduceMean axes") if axes is not None else attr_axes
        if not chosen:
            if noop:
                return x
            chosen = list(range(x.ndim))
        return fn.mean(x, dim=tuple(axes_of(chosen, x.ndim)), keepdim=keepdims)
    return run
