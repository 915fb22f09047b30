"""Scaled dot-product attention (the core of MultiheadAttention and the Transformer layers) as
MatMul, Softmax, MatMul. ember's kernel gives zeros for a query whose keys are all masked out
(-inf everywhere), as PyTorch does; ONNX's Softmax gives NaN there."""
from ...ops.attention import ScaledDotProductAttention


def _attention(g):
    op = g.op
    if op.params.get("keep") is not None:
        raise g.error("attention dropout in training mode has no inference graph")
    dtype = g.dtype(op.inputs[0])
    rank = len(g.shape_of(op.inputs[1]))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    q = g.node("Mul", [g.input(0), g.scalar(op.params["scale"], dtype)])
    scores = g.node("MatMul", [q, g.transpose(g.input(1), perm)])
    if len(op.inputs) > 3 and op.inputs[3] is not None:
        scores = g.node("Add", [scores, g.cast(g.input(3), g.dtype_of(op.inputs[3]), dtype)])
    probs = g.node("Softmax", [scores], axis=-1)
    g.bind(0, g.node("MatMul", [probs, g.input(2)]))


EMITTERS = {ScaledDotProductAttention: _attention}
