"""Elementwise arithmetic, math functions, clamping, where and casts.

Operands are cast to the result's dtype first (ONNX's arithmetic needs equal types, where ember
follows PyTorch's promotion), and Python numbers become constants of that dtype.
"""
import numpy as np

from ...ops.elementwise import (Abs, Add, Cast, Clamp, Clone, Cos, Div, Exp, Log, Maximum, Mul,
                                Neg, Pow, Sin, Sqrt, Sub, Where)
from ...ops.unary_math import Unary
from ..export_trace import Ref


def operand(g, i, dtype):
    """Input i of the op as an ONNX value of `dtype`."""
    x, twin = g.op.inputs[i], g.twin_op.inputs[i]
    if isinstance(x, Ref):
        return g.cast(g.names[x.vid], g.dtype(x), dtype)
    return g.value(x, twin, dtype=dtype)


def _out_dtype(g):
    return g.trace.info[g.op.outputs[0]][1]


def _binary(op_type):
    def emit(g):
        dtype = _out_dtype(g)
        g.bind(0, g.node(op_type, [operand(g, 0, dtype), operand(g, 1, dtype)]))
    return emit


def _unary(op_type):
    def emit(g):
        g.bind(0, g.node(op_type, [operand(g, 0, _out_dtype(g))]))
    return emit


def _clamp(g):
    dtype = _out_dtype(g)
    p, twin = g.op.params, g.twin_op.params
    bounds = [None if p.get(k) is None else g.value(p[k], twin[k], dtype=dtype)
              for k in ("min", "max")]
    if any(b is not None and np.ndim(p[k]) != 0 for b, k in zip(bounds, ("min", "max"))):
        x = operand(g, 0, dtype)  # tensor bounds: Max and Min broadcast, Clip's do not
        if bounds[0] is not None:
            x = g.node("Max", [x, bounds[0]])
        if bounds[1] is not None:
            x = g.node("Min", [x, bounds[1]])
        g.bind(0, x)
        return
    g.bind(0, g.node("Clip", [operand(g, 0, dtype)] + bounds))


def _maximum(g):
    dtype = _out_dtype(g)
    op_type = "Max" if g.op.params.get("take_max", True) else "Min"
    g.bind(0, g.node(op_type, [operand(g, 0, dtype), operand(g, 1, dtype)]))


def _where(g):
    dtype = _out_dtype(g)
    cond = operand(g, 0, np.bool_)
    g.bind(0, g.node("Where", [cond, operand(g, 1, dtype), operand(g, 2, dtype)]))


def _cast(g):
    g.bind(0, g.node("Cast", [g.input(0)], to=g.onnx_dtype(_out_dtype(g))))


def _clone(g):
    g.bind(0, g.node("Identity", [g.input(0)]))


_UNARY_OPS = {"erf": "Erf", "reciprocal": "Reciprocal", "tan": "Tan", "sinh": "Sinh",
              "cosh": "Cosh", "asin": "Asin", "acos": "Acos", "atan": "Atan", "asinh": "Asinh",
              "acosh": "Acosh", "atanh": "Atanh"}


def _unary_math(g):
    kind = g.op.params["kind"]
    dtype = _out_dtype(g)
    x = operand(g, 0, dtype)
    if kind == "rsqrt":
        g.bind(0, g.node("Reciprocal", [g.node("Sqrt", [x])]))
    elif kind in _UNARY_OPS:
        g.bind(0, g.node(_UNARY_OPS[kind], [x]))
    else:
        raise g.error(f"the function {kind!r} has no ONNX mapping in ember")


EMITTERS = {Add: _binary("Add"), Sub: _binary("Sub"), Mul: _binary("Mul"), Div: _binary("Div"),
            Pow: _binary("Pow"), Neg: _unary("Neg"), Exp: _unary("Exp"), Log: _unary("Log"),
            Sqrt: _unary("Sqrt"), Abs: _unary("Abs"), Sin: _unary("Sin"), Cos: _unary("Cos"),
            Clamp: _clamp, Maximum: _maximum, Where: _where, Cast: _cast, Clone: _clone,
            Unary: _unary_math}
