"""Recurrent operators LSTM, GRU and RNN. ONNX's gate orders (LSTM i o f c, GRU z r h) are
reordered to ember's (PyTorch's: i f g o, r z n) inside the graph, so gradients reach the ONNX
weights; each direction is one call of ember's fused kernel. A GRU with
linear_before_reset=0, which that kernel does not compute, runs step by step on ember's ops."""
from __future__ import annotations

import numpy as np

from ... import functions as fn
from ..._core import ShapeError
from ...creation import zeros
from ...ops.rnn import rnn_layer
from .registry import register
from .values import constant

_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}  # ONNX gate -> ember position
_ACTIVATIONS = {"LSTM": {("Sigmoid", "Tanh", "Tanh"): "lstm"},
                "GRU": {("Sigmoid", "Tanh"): "gru"},
                "RNN": {("Tanh",): "rnn_tanh", ("Relu",): "rnn_relu"}}
_DIRECTIONS = ("forward", "reverse", "bidirectional")


def _settings(node, kind: str):
    direction = node.string("direction", "forward")
    if direction not in _DIRECTIONS:
        raise node.error(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    directions = 2 if direction == "bidirectional" else 1
    layout = node.int("layout", 0)
    if layout not in (0, 1):
        raise node.error(f"layout must be 0 or 1, got {layout}")
    for name in ("clip", "activation_alpha", "activation_beta"):
        if name in node.attrs:
            raise node.unsupported(f"{kind} with the attribute {name!r}")
    if kind == "LSTM" and node.int("input_forget", 0):
        raise node.unsupported("LSTM with input_forget=1")
    given = node.strings("activations", None)
    first = next(iter(_ACTIVATIONS[kind]))
    names = tuple(given) if given is not None else first * directions
    per_direction = len(first)
    if len(names) != per_direction * directions or \
            names[:per_direction] != names[per_direction:] and directions == 2:
        raise node.unsupported(f"{kind} with activations {list(names)}")
    mode = _ACTIVATIONS[kind].get(tuple(names[:per_direction]))
    if mode is None:
        raise node.unsupported(f"{kind} with activations {list(names)}")
    stepwise = kind == "GRU" and not node.int("linear_before_reset", 0)
    return direction, directions, layout, node.int("hidden_size", None), mode, stepwise


def _reorder(t, kind: str, hidden: int):
    order = _ORDER[kind]
    if order == tuple(range(len(order))):
        return t
    return fn.cat([t[k * hidden:(k + 1) * hidden] for k in order], dim=0)


def _check_shapes(kind, x, w, r, b, directions, hidden_attr):
    gates = _GATES[kind]
    if x.ndim != 3 or w.ndim != 3 or r.ndim != 3:
        raise ShapeError(f"{kind} needs 3-D X, W and R, got shapes {tuple(x.shape)}, "
                         f"{tuple(w.shape)} and {tuple(r.shape)}")
    hidden = r.shape[2]
    expected = {"W": (directions, gates * hidden, x.shape[2]),
                "R": (directions, gates * hidden, hidden), "B": (directions, 2 * gates * hidden)}
    for name, t in (("W", w), ("R", r), ("B", b)):
        if t is not None and tuple(t.shape) != expected[name]:
            raise ShapeError(f"{kind}: {name} has shape {tuple(t.shape)}, expected "
                             f"{expected[name]} for input shape {tuple(x.shape)} and "
                             f"hidden_size {hidden} in {directions} direction(s)")
    if hidden_attr is not None and hidden_attr != hidden:
        raise ShapeError(f"{kind}: hidden_size={hidden_attr} does not match R of shape "
                         f"{tuple(r.shape)}")
    return hidden


def _state(t, d: int, layout: int, shape: tuple, name: str):
    if t is None:
        return None
    if tuple(t.shape) != shape:
        raise ShapeError(f"{name} has shape {tuple(t.shape)}, expected {shape}")
    return t[d] if layout == 0 else t[:, d]


def _recurrent(kind: str):
    def build(node):
        direction, directions, layout, hidden_attr, mode, stepwise = _settings(node, kind)

        def run(x, w, r, b=None, seq_lens=None, h0=None, c0=None, p=None):
            if p is not None:
                raise NotImplementedError("LSTM peepholes (input P) are not supported by ember")
            hidden = _check_shapes(kind, x, w, r, b, directions, hidden_attr)
            batch = x.shape[1 if layout == 0 else 0]
            state = (directions, batch, hidden) if layout == 0 else (batch, directions, hidden)
            mask = _mask(seq_lens, x, layout, stepwise, kind)
            gh = _GATES[kind] * hidden
            outs, hs, cs = [], [], []
            for d in range(directions):
                reverse = direction == "reverse" or d == 1
                h_init = _state(h0, d, layout, state, "initial_h")
                c_init = _state(c0, d, layout, state, "initial_c")
                if stepwise:
                    y, h_n = _gru_steps(x, w[d], r[d], None if b is None else b[d], h_init,
                                        reverse, layout == 1)
                    c_n = None
                else:
                    w_ih, w_hh = _reorder(w[d], kind, hidden), _reorder(r[d], kind, hidden)
                    b_ih = b_hh = None
                    if b is not None:
                        b_ih = _reorder(b[d, :gh], kind, hidden)
                        b_hh = _reorder(b[d, gh:], kind, hidden)
                    y, h_n, c_n = rnn_layer(x, h_init, c_init, w_ih, w_hh, b_ih, b_hh,
                                            mode=mode, reverse=reverse,
                                            batch_first=layout == 1, mask=mask)
                    if mask is not None:  # ONNX zeroes the outputs past each sequence's end
                        y = y * constant(mask[:, :, None].astype(y._array.dtype))
                outs.append(y)
                hs.append(h_n)
                cs.append(c_n)
            axis = 1 if layout == 0 else 2
            stacked = [fn.stack(outs, dim=axis), fn.stack(hs, dim=axis - 1)]
            if kind == "LSTM":
                stacked.append(fn.stack(cs, dim=axis - 1))
            return tuple(stacked)
        return run
    return build


def _mask(seq_lens, x, layout, stepwise, kind):
    """(T, B) booleans, True where a step lies inside its sequence; None without lengths."""
    if seq_lens is None:
        return None
    if layout != 0 or stepwise:
        raise NotImplementedError(f"{kind} with sequence_lens and layout=1 or "
                                  "linear_before_reset=0 is not supported by ember")
    lens = seq_lens._array
    steps, batch = x.shape[0], x.shape[1]
    if lens.dtype.kind not in "iu" or lens.shape != (batch,):
        raise ShapeError(f"{kind}: sequence_lens must be {batch} integers, got {lens.dtype} of "
                         f"shape {lens.shape}")
    if lens.size and (lens.min() < 0 or lens.max() > steps):
        raise ValueError(f"{kind}: sequence_lens must lie in [0, {steps}], got {lens.tolist()}")
    return np.arange(steps)[:, None] < lens[None, :]


def _gru_steps(x, w, r, b, h, reverse: bool, batch_first: bool):
    """ONNX's GRU with linear_before_reset=0: the reset gate scales the state before its
    product with R_h. x (T, B, I) or (B, T, I); w (3H, I) and r (3H, H) in z r h order."""
    seq = x.transpose(0, 1) if batch_first else x
    hidden = r.shape[1]
    gx = fn.matmul(seq, w.t())
    if b is not None:
        gx = gx + b[:3 * hidden]
    if h is None:
        h = zeros(seq.shape[1], hidden, dtype=x.dtype)
    r_zr, r_h = r[:2 * hidden].t(), r[2 * hidden:].t()
    outs = [None] * seq.shape[0]
    for t in (reversed(range(seq.shape[0])) if reverse else range(seq.shape[0])):
        zr = gx[t, :, :2 * hidden] + fn.matmul(h, r_zr)
        if b is not None:
            zr = zr + b[3 * hidden:5 * hidden]
        zr = fn.sigmoid(zr)
        z, reset = zr[:, :hidden], zr[:, hidden:]
        candidate = gx[t, :, 2 * hidden:] + fn.matmul(reset * h, r_h)
        if b is not None:
            candidate = candidate + b[5 * hidden:]
        candidate = fn.tanh(candidate)
        h = (1 - z) * candidate + z * h
        outs[t] = h
    y = fn.stack(outs, dim=0)
    return (y.transpose(0, 1) if batch_first else y), h


register("LSTM", since=7)(_recurrent("LSTM"))
register("GRU", since=7)(_recurrent("GRU"))
register("RNN", since=7)(_recurrent("RNN"))
