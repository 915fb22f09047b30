"""Linear layers and matrix products: Gemm for 2-D input, MatMul + Add otherwise."""
from ...ops.linalg import Linear, LinearActivation, Matmul
from .activation import activation_node


def _affine(g):
    """x @ weight.T + bias: Gemm when x is a matrix (the case Gemm is for), else MatMul with
    the transposed weight (a Transpose node on the initializer, so a tied weight is stored
    once) and an Add."""
    op = g.op
    x, w = g.input(0), g.input(1)
    b = g.input(2) if len(op.inputs) > 2 else None
    if len(g.shape(op.inputs[0])) == 2:
        return g.node("Gemm", [x, w, b], transB=1)
    y = g.node("MatMul", [x, g.transpose(w, [1, 0])])
    return y if b is None else g.node("Add", [y, b])


def _linear(g):
    g.bind(0, _affine(g))


def _linear_activation(g):
    kind = g.op.params.get("activation", "relu")
    y = _affine(g)
    dtype = g.dtype(g.op.inputs[0])
    g.bind(0, y if kind == "linear" else activation_node(g, kind, y, dtype))


def _matmul(g):
    g.bind(0, g.node("MatMul", [g.input(0), g.input(1)]))


EMITTERS = {Linear: _linear, LinearActivation: _linear_activation, Matmul: _matmul}
