"""Recurrent layers (one layer, one direction) and embeddings, computed by the C++ kernels."""
from __future__ import annotations

import numpy as np

from .. import _core
from ..autograd import Function
from ..tensor import Tensor

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")


class RnnLayer(Function):
    """inputs: (input (T, B, I), h0, c0 or None, weight_ih, weight_hh, bias_ih, bias_hh).
    The output is (T, B, H); for LSTM the final cell state is appended as step T, so that one
    differentiable tensor carries both (rnn_layer slices them apart)."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, reverse, mask):
        out, c_n, self.reserve = _core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                   mask, reverse)
        self.saved = (x, h0, c0, w_ih, w_hh, mask, out)
        self.mode, self.reverse = mode, reverse
        return np.concatenate([out, c_n[None]]) if mode == "lstm" else out

    def backward(self, g):
        x, h0, c0, w_ih, w_hh, mask, out = self.saved
        g_out, g_cn = (g[:-1], g[-1]) if self.mode == "lstm" else (g, None)
        need = self.needs_input_grad
        gi, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh = _core.rnn_backward(
            self.mode, g_out, g_cn, x, h0, c0, w_ih, w_hh, mask, out, self.reserve, self.reverse,
            need[0], need[1], need[2], need[3] or need[4], need[5] or need[6])
        return gi, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh

    def _name(self):
        return {"lstm": "Lstm", "gru": "Gru"}.get(self.mode, "Rnn") + "Backward"


def rnn_layer(input, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, *, mode,
              reverse=False, mask=None):
    """One recurrent layer in one direction over a time-major (T, B, I) sequence.

    Returns (output (T, B, H), h_n (B, H), c_n (B, H) or None). mask (T, B): where False the
    step is skipped for that sample (state carried over; the output repeats it).
    """
    if mode not in MODES:
        raise ValueError(f"rnn_layer: mode must be one of {MODES}, got {mode!r}")
    steps = input.shape[0]
    if h0 is None:
        h0 = Tensor._from_op(np.zeros((input.shape[1], weight_hh.shape[1]), input._array.dtype),
                             None)
    if mode == "lstm" and c0 is None:
        c0 = Tensor._from_op(np.zeros_like(h0._array), None)
    mask_array = None
    if mask is not None:
        mask_array = np.asarray(mask._array if isinstance(mask, Tensor) else mask, dtype=bool)
    y = RnnLayer.apply(input, h0, c0 if mode == "lstm" else None, weight_ih, weight_hh, bias_ih,
                       bias_hh, mode=mode, reverse=bool(reverse), mask=mask_array)
    output, c_n = (y[:steps], y[steps]) if mode == "lstm" else (y, None)
    h_n = output[0] if reverse else output[steps - 1]
    return output, h_n, c_n


class Embedding(Function):
    """inputs: (weight,); rows of weight picked by `indices` (any shape)."""

    def forward(self, weight, indices, padding_idx):
        self.indices, self.padding_idx, self.rows = indices, padding_idx, weight.shape[0]
        return _core.embedding_forward(weight, indices)

    def backward(self, g):
        return (_core.embedding_backward(g, self.indices, self.rows, self.padding_idx),)
