"""Activations, softmax and dropout as ONNX nodes."""
import math

from ...ops.activation import Activation, Dropout, ElementDropout, Softmax


def activation_node(g, kind, x, dtype, alpha=0.0, beta=0.0):
    """The ONNX form of ember's activation kernel `kind` applied to the value named x."""
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    if kind in simple:
        return g.node(simple[kind], [x])
    if kind == "leaky_relu":
        return g.node("LeakyRelu", [x], alpha=float(alpha))
    if kind == "elu":
        return g.node("Elu", [x], alpha=float(alpha))
    if kind == "gelu":  # x * (1 + erf(x / sqrt 2)) / 2: Gelu is an operator only from opset 20
        erf = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2), dtype)])])
        one_plus = g.node("Add", [erf, g.scalar(1, dtype)])
        return g.node("Mul", [g.node("Mul", [x, g.scalar(0.5, dtype)]), one_plus])
    if kind == "gelu_tanh":  # x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, dtype)])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dtype)])])
        one_plus = g.node("Add", [t, g.scalar(1, dtype)])
        return g.node("Mul", [g.node("Mul", [x, g.scalar(0.5, dtype)]), one_plus])
    if kind == "softplus":  # PyTorch: log(1 + exp(beta x)) / beta; x where beta x > threshold
        scaled = g.node("Mul", [x, g.scalar(alpha, dtype)])
        soft = g.node("Div", [g.node("Softplus", [scaled]), g.scalar(alpha, dtype)])
        linear = g.node("Greater", [scaled, g.scalar(beta, dtype)])
        return g.node("Where", [linear, x, soft])
    raise g.error(f"the activation {kind!r} has no ONNX mapping in ember")


def _activation(g):
    op = g.op
    x = g.input(0)
    dtype = g.dtype(op.inputs[0])
    g.bind(0, activation_node(g, op.params["kind"], x, dtype, op.params.get("alpha", 0.0),
                              op.params.get("beta", 0.0)))


def _softmax(g):
    op = g.op
    kind = "LogSoftmax" if op.params.get("log", False) else "Softmax"
    g.bind(0, g.node(kind, [g.input(0)], axis=int(op.params["dim"])))


def _dropout(g):
    raise g.error("dropout in training mode (F.dropout(..., training=True) called in forward) "
                  "is random and has no inference graph; call it with training=self.training")


EMITTERS = {Activation: _activation, Softmax: _softmax, Dropout: _dropout, ElementDropout: _dropout}
