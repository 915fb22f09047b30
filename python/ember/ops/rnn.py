"""Recurrent layers (one layer, one direction) and embeddings, computed by the C++ kernels."""
from __future__ import annotations

import numpy as np

from .. import _core, autograd
from ..autograd import Function
from ..tensor import Tensor

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")


class RnnLayer(Function):
    """inputs: (input (T, B, I) or (B, T, I) when batch_first, h0, c0 or None, weight_ih,
    weight_hh, bias_ih, bias_hh). The output is (T, B, H) or (B, T, H); for LSTM it is the flat
    buffer holding the output and then the final cell state c_n, so that one differentiable
    tensor carries both without a copy (rnn_layer views them apart)."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, reverse, batch_first, mask):
        training = True in self.needs_input_grad
        out, c_n, reserve = _core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask,
                                              reverse, batch_first, training)
        if training:
            self.saved = (x, h0, c0, w_ih, w_hh, mask, out, reserve)
            self.mode, self.reverse, self.batch_first = mode, reverse, batch_first
        return out if c_n is None else out.base

    def backward(self, g):
        x, h0, c0, w_ih, w_hh, mask, out, reserve = self.saved
        g_out, g_cn = g, None
        if self.mode == "lstm":
            g_out, g_cn = g[:out.size].reshape(out.shape), g[out.size:].reshape(h0.shape)
        need = self.needs_input_grad
        gi, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh = _core.rnn_backward(
            self.mode, g_out, g_cn, x, h0, c0, w_ih, w_hh, mask, out, reserve, self.reverse,
            need[0], need[1], need[2], need[3] or need[4], need[5] or need[6], self.batch_first)
        return gi, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh

    def _name(self):
        return {"lstm": "Lstm", "gru": "Gru"}.get(self.mode, "Rnn") + "Backward"


def rnn_layer(input, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, *, mode,
              reverse=False, mask=None, batch_first=False):
    """One recurrent layer in one direction over a (T, B, I) sequence, or (B, T, I) when
    batch_first (the output then is (B, T, H) as well).

    Returns (output, h_n (B, H), c_n (B, H) or None). mask (T, B): where False the step is
    skipped for that sample (state carried over; the output repeats it).
    """
    if mode not in MODES:
        raise ValueError(f"rnn_layer: mode must be one of {MODES}, got {mode!r}")
    batch = input.shape[0 if batch_first else 1]
    if h0 is None:
        h0 = Tensor._from_op(np.zeros((batch, weight_hh.shape[1]), input._array.dtype), None)
    if mode == "lstm" and c0 is None:
        c0 = Tensor._from_op(np.zeros_like(h0._array), None)
    mask_array = None
    if mask is not None:
        mask_array = np.asarray(mask._array if isinstance(mask, Tensor) else mask, dtype=bool)
    inputs = (input, h0, c0 if mode == "lstm" else None, weight_ih, weight_hh, bias_ih, bias_hh)
    last = 0 if reverse else input.shape[1 if batch_first else 0] - 1
    if not autograd.is_grad_enabled() or not any(
            isinstance(t, Tensor) and t.requires_grad for t in inputs):
        # Nothing to differentiate (inference): the kernel's arrays, without autograd nodes.
        out, c_n, _ = _core.rnn_forward(mode, *[None if t is None else t._array for t in inputs],
                                        mask_array, bool(reverse), bool(batch_first), False)
        h_n = out[:, last] if batch_first else out[last]
        return tuple(None if a is None else Tensor._from_op(a, None) for a in (out, h_n, c_n))
    y = RnnLayer.apply(*inputs, mode=mode, reverse=bool(reverse), batch_first=bool(batch_first),
                       mask=mask_array)
    output, c_n = y, None
    if mode == "lstm":
        shape = tuple(input.shape[:2]) + (weight_hh.shape[1],)
        n = shape[0] * shape[1] * shape[2]
        output, c_n = y[:n].view(shape), y[n:].view(batch, shape[2])
    h_n = output[:, last] if batch_first else output[last]
    return output, h_n, c_n


class Embedding(Function):
    """inputs: (weight,); rows of weight picked by `indices` (any shape)."""

    def forward(self, weight, indices, padding_idx):
        self.indices, self.padding_idx, self.rows = indices, padding_idx, weight.shape[0]
        return _core.embedding_forward(weight, indices)

    def backward(self, g):
        return (_core.embedding_backward(g, self.indices, self.rows, self.padding_idx),)
