"""Scaled dot-product attention as one autograd node: softmax(q k^T * scale + bias) (dropped
out) times v over broadcast batch dimensions, its backward written out so that training keeps
one node and four batched GEMMs per direction instead of a chain of small ops."""
import numpy as np

from .. import _core
from ..autograd import Function
from ._broadcast import unbroadcast


def _batched(a, batch, rows, cols):
    """``a`` broadcast to batch + (rows, cols) as a contiguous (prod(batch), rows, cols) array."""
    return np.ascontiguousarray(np.broadcast_to(a, batch + (rows, cols))).reshape(-1, rows, cols)


def safe_softmax(scores):
    """Softmax over the last axis, where a row whose entries are all -inf (every key masked out)
    gives zeros rather than NaN, as PyTorch's scaled_dot_product_attention does. Only rows the
    kernel made NaN (their first entry tells) are examined: a NaN input stays NaN."""
    probs = _core.softmax_forward(scores, -1)
    if probs.shape[-1] == 0:
        return probs
    suspects = np.isnan(probs[..., 0])
    if suspects.any():
        rows = np.nonzero(suspects)
        empty = np.isneginf(scores[rows]).all(axis=-1)
        probs[tuple(r[empty] for r in rows)] = 0
    return probs


class ScaledDotProductAttention(Function):
    """inputs: query (..., L, E), key (..., S, E), value (..., S, Ev), bias (additive, shaped to
    broadcast to (..., L, S)) or None; ``keep`` is the dropout mask already scaled by 1/(1-p)
    (or None). The caller has checked shapes and dtypes."""

    new_grads = True

    def forward(self, q, k, v, bias, scale, keep=None):
        L, E, S, Ev = q.shape[-2], q.shape[-1], k.shape[-2], v.shape[-1]
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        self.shapes = (q.shape, k.shape, v.shape, None if bias is None else bias.shape)
        # the scale goes on the query (L x E values) rather than the scores (L x S)
        q3 = _batched(q, batch, L, E) * q.dtype.type(scale)
        k3t = np.ascontiguousarray(_batched(k, batch, S, E).transpose(0, 2, 1))
        v3 = _batched(v, batch, S, Ev)
        scores = _core.matmul_forward(q3, k3t)
        if bias is not None:
            scores += np.broadcast_to(bias, batch + (L, S)).reshape(-1, L, S)
        probs = safe_softmax(scores)
        dropped = probs if keep is None else probs * keep.reshape(probs.shape)
        self.saved = (q3, k3t, v3, probs, dropped, keep, scale, batch)
        return _core.matmul_forward(dropped, v3).reshape(batch + (L, Ev))

    def backward(self, g):
        q3, k3t, v3, probs, dropped, keep, scale, batch = self.saved
        q_shape, k_shape, v_shape, bias_shape = self.shapes
        need_q, need_k, need_v = self.needs_input_grad[:3]
        need_bias = len(self.needs_input_grad) > 3 and self.needs_input_grad[3]
        g3 = np.ascontiguousarray(g).reshape(-1, q3.shape[1], v3.shape[2])
        g_dropped, gv3 = _core.matmul_backward(g3, dropped, v3, True, need_v)
        if keep is not None:
            g_dropped *= keep.reshape(g_dropped.shape)
        g_scores = _core.softmax_backward(g_dropped, probs, -1)
        gq = gk = None
        if need_q or need_k:
            # (q3 carries the scale: d/dk needs nothing more, d/dq one factor)
            gq3, gkt3 = _core.matmul_backward(g_scores, q3, k3t, need_q, need_k)
            if need_q:
                gq3 *= gq3.dtype.type(scale)
                gq = unbroadcast(gq3.reshape(batch + gq3.shape[1:]), q_shape)
            if need_k:
                gk3 = gkt3.transpose(0, 2, 1)
                gk = unbroadcast(gk3.reshape(batch + gk3.shape[1:]), k_shape)
        gv = None if gv3 is None else unbroadcast(gv3.reshape(batch + gv3.shape[1:]), v_shape)
        gbias = None
        if need_bias:
            gbias = unbroadcast(g_scores.reshape(batch + g_scores.shape[1:]), bias_shape)
        return tuple(np.ascontiguousarray(x) if x is not None else None
                     for x in (gq, gk, gv, gbias))
