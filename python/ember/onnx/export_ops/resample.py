"""Upsampling and interpolation (nearest, nearest-exact, linear): ember resamples one axis at a
time by gathering source positions with weights (ops/interpolate.py), which ONNX's Gather, Mul
and Add reproduce exactly, whatever the mode and scale."""
import numpy as np

from ...ops.interpolate import Interpolate


def _same_taps(a, b) -> bool:
    return len(a) == len(b) and all(
        axis == axis2 and size == size2 and len(taps) == len(taps2) and all(
            np.array_equal(i, i2) and (w is None) == (w2 is None) and
            (w is None or np.array_equal(w, w2)) for (i, w), (i2, w2) in zip(taps, taps2))
        for (axis, size, taps), (axis2, size2, taps2) in zip(a, b))


def _interpolate(g):
    op = g.op
    if not _same_taps(op.params["taps"], g.twin_op.params["taps"]):
        raise g.error("resampling of dynamic spatial sizes has no fixed ONNX form in ember; "
                      "make only the batch axis dynamic")
    x = g.input(0)
    rank = len(g.shape(op.inputs[0]))
    dtype = g.dtype(op.inputs[0])
    for axis, _, taps in op.params["taps"]:
        total = None
        for index, weight in taps:
            term = g.node("Gather", [x, g.const(np.asarray(index, np.int64))], axis=int(axis))
            if weight is not None:
                w = np.asarray(weight, dtype).reshape((-1,) + (1,) * (rank - axis - 1))
                term = g.node("Mul", [term, g.const(w)])
            total = term if total is None else g.node("Add", [total, term])
        x = total
    g.bind(0, x)


EMITTERS = {Interpolate: _interpolate}
