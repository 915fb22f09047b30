"""Reductions: sum, mean, max/min over dimensions (or all of them)."""
from ...ops.reduce import MaxAll, Mean, Sum
from .elementwise import operand


def _axes(g):
    dim = g.op.params.get("dim")
    if dim is None:
        return None
    rank = len(g.shape(g.op.inputs[0]))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return sorted(int(d) % rank for d in dims) if dims else None


def _reduce(op_type):
    def emit(g):
        p = g.op.params
        dtype = g.trace.info[g.op.outputs[0]][1]
        if op_type == "ReduceMax" and not p.get("take_max", True):
            kind = "ReduceMin"
        else:
            kind = op_type
        x = operand(g, 0, dtype)
        g.bind(0, g.reduce(kind, x, _axes(g), p.get("keepdim", False)))
    return emit


EMITTERS = {Sum: _reduce("ReduceSum"), Mean: _reduce("ReduceMean"), MaxAll: _reduce("ReduceMax")}
