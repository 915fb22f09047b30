"""Recurrent layers and embeddings: one ONNX LSTM/GRU/RNN node per rnn_layer call (a layer in
one direction), and Gather for an embedding lookup.

ember (both faces) runs every recurrent layer through ops.rnn.rnn_layer with PyTorch's weight
layout: gates stacked (i, f, g, o) for LSTM and (r, z, n) for GRU, weight_ih (G*H, I),
weight_hh (G*H, H). ONNX stacks LSTM gates as (i, o, f, c) and GRU gates as (z, r, h), and
PyTorch's GRU applies the reset gate after the recurrent product: linear_before_reset=1.
"""
import numpy as np

from ...ops.rnn import Embedding
from ..export_trace import RNN_LAYER, Ref

# rnn_layer's mode -> (ONNX op, gates, the ONNX gate order as indices of PyTorch's chunks)
_MODES = {"lstm": ("LSTM", 4, [0, 3, 1, 2]), "gru": ("GRU", 3, [1, 0, 2]),
          "rnn_tanh": ("RNN", 1, [0]), "rnn_relu": ("RNN", 1, [0])}


def _weight(g, i, order, gates, name):
    """Input i of the op (a weight or bias, PyTorch layout) regrouped in ONNX's gate order with
    a leading direction axis, as an initializer."""
    x = g.op.inputs[i]
    if isinstance(x, Ref):
        raise g.error(f"the recurrent {name} is computed from the model's inputs; ONNX needs "
                      "it as a constant")
    a = np.asarray(getattr(x, "_array", x))
    chunks = np.split(a, gates, axis=0)
    stacked = np.concatenate([chunks[k] for k in order], axis=0)[None]
    base = g.param_names.get(id(a), name)
    return g.const(np.ascontiguousarray(stacked), f"{base}.onnx")


def _initial_state(g, i):
    """The initial state input i as (1, B, H), or None when it is zeros (ONNX's default)."""
    x, twin = g.op.inputs[i], g.twin_op.inputs[i]
    if x is None:
        return None
    if not isinstance(x, Ref):
        arrays = [np.asarray(getattr(v, "_array", v)) for v in (x, twin)]
        if not any(a.any() for a in arrays):
            return None
    return g.unsqueeze(g.input(i), [0])


def _rnn_layer(g):
    op, p = g.op, g.op.params
    if p["mask"] is not None:
        raise g.error("a masked recurrent layer (Keras masking, packed sequences) has no ONNX "
                      "mapping in ember")
    onnx_op, gates, order = _MODES[p["mode"]]
    hidden = g.shape_of(op.inputs[4])[1]
    dtype = g.dtype(op.inputs[0])
    w = _weight(g, 3, order, gates, "weight_ih")
    r = _weight(g, 4, order, gates, "weight_hh")
    biases = []
    for i, name in ((5, "bias_ih"), (6, "bias_hh")):
        if op.inputs[i] is None:
            biases.append(g.const(np.zeros((1, gates * hidden), dtype)))
        else:
            biases.append(_weight(g, i, order, gates, name))
    b = None
    if op.inputs[5] is not None or op.inputs[6] is not None:
        b = g.node("Concat", biases, axis=1)
    x = g.input(0)
    if p["batch_first"]:
        x = g.transpose(x, [1, 0, 2])
    inputs = [x, w, r, b, None, _initial_state(g, 1)]
    attrs = dict(hidden_size=int(hidden), direction="reverse" if p["reverse"] else "forward")
    if onnx_op == "LSTM":
        inputs.append(_initial_state(g, 2))
    elif onnx_op == "GRU":
        attrs["linear_before_reset"] = 1
    else:
        attrs["activations"] = ["Relu" if p["mode"] == "rnn_relu" else "Tanh"]
    outs = g.node(onnx_op, inputs, outputs=3 if onnx_op == "LSTM" else 2, **attrs)
    y = g.squeeze(outs[0], [1])          # (T, 1, B, H) -> (T, B, H)
    g.bind(0, g.transpose(y, [1, 0, 2]) if p["batch_first"] else y)
    g.bind(1, g.squeeze(outs[1], [0]))   # (1, B, H) -> (B, H)
    if onnx_op == "LSTM":
        g.bind(2, g.squeeze(outs[2], [0]))


def _embedding(g):
    g.bind(0, g.node("Gather", [g.input(0), g.param("indices")], axis=0))


EMITTERS = {RNN_LAYER: _rnn_layer, Embedding: _embedding}
