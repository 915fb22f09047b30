"""repeat (tile) and repeat_interleave: Tile, and Gather of the source rows."""
import numpy as np

from ...ops.repeat import Repeat, RepeatInterleave


def _repeat(g):
    op = g.op
    sizes = [int(s) for s in op.params["sizes"]]
    if sizes != [int(s) for s in g.twin_op.params["sizes"]]:
        raise g.error("repeat counts that change with the dynamic axes")
    x = g.input(0)
    lead = len(sizes) - len(g.shape(op.inputs[0]))
    if lead:
        x = g.unsqueeze(x, list(range(lead)))
    g.bind(0, g.node("Tile", [x, g.ints(sizes)]))


def _repeat_interleave(g):
    op = g.op
    shape, twin_shape = g.shape(op.inputs[0]), g.twin_shape(op.inputs[0])
    axis = op.params.get("axis")
    x = g.input(0)
    if axis is None:
        x, axis = g.node("Reshape", [x, g.ints([-1])]), 0
        n, twin_n = int(np.prod(shape)), int(np.prod(twin_shape))
    else:
        axis %= len(shape)
        n, twin_n = shape[axis], twin_shape[axis]
    counts = np.asarray(op.params["repeats"])
    if n != twin_n or not np.array_equal(counts, np.asarray(g.twin_op.params["repeats"])):
        raise g.error("repeat_interleave along an axis that changes with the dynamic axes")
    source = np.repeat(np.arange(n), np.broadcast_to(counts.reshape(-1), (n,)))
    g.bind(0, g.node("Gather", [x, g.const(source.astype(np.int64))], axis=int(axis)))


EMITTERS = {Repeat: _repeat, RepeatInterleave: _repeat_interleave}
