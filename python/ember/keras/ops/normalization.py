"""keras.ops.nn normalizations and attention: batch_normalization, layer_normalization,
rms_normalization and dot_product_attention, as compositions of differentiable ember ops."""
from __future__ import annotations

import math

import numpy as np

import ember
from ...nn import functional as F
from .. import config
from .core import as_float, axes_argument, convert_to_tensor, normalize_axis


def _along(v, dims, x):
    """A per-feature vector ``v`` (shaped like x on ``dims``) broadcastable against ``x``."""
    if v is None:
        return None
    v = convert_to_tensor(v).to(x.dtype)
    shape = [1] * x.dim()
    for d in dims:
        shape[d] = x.shape[d]
    return v.reshape(shape)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the vectors along ``axis``."""
    x = as_float(x)
    dims = (normalize_axis(axis, x.dim(), "batch_normalization"),)
    out = (x - _along(mean, dims, x)) * ember.rsqrt(_along(variance, dims, x) + epsilon)
    if scale is not None:
        out = out * _along(scale, dims, x)
    if offset is not None:
        out = out + _along(offset, dims, x)
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    if kwargs.pop("rms_scaling", False):
        raise NotImplementedError("keras.ops.layer_normalization: rms_scaling=True (deprecated "
                                  "in Keras) is not supported by ember; use "
                                  "keras.ops.rms_normalization")
    if kwargs:
        raise TypeError(f"keras.ops.layer_normalization: unexpected keyword arguments "
                        f"{sorted(kwargs)}")
    x = as_float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    dims = axes_argument(axis, x.dim(), "layer_normalization")
    mean = ember.mean(x, dim=dims, keepdim=True)
    centered = x - mean
    variance = ember.mean(centered * centered, dim=dims, keepdim=True)
    out = centered * ember.rsqrt(variance + eps)
    if gamma is not None:
        out = out * _along(gamma, dims, x)
    if beta is not None:
        out = out + _along(beta, dims, x)
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = as_float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    dims = axes_argument(axis, x.dim(), "rms_normalization")
    out = x * ember.rsqrt(ember.mean(x * x, dim=dims, keepdim=True) + eps)
    return out if scale is None else out * _along(scale, dims, x)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """softmax(query . key * scale + bias, masked) . value over (batch, steps, heads, depth)
    tensors; key and value may have fewer heads that query heads share (grouped queries)."""
    if flash_attention:
        raise NotImplementedError("keras.ops.dot_product_attention: flash_attention=True is "
                                  "not supported by ember")
    if bias is not None and mask is not None:
        raise ValueError("keras.ops.dot_product_attention: only one of `bias` and `mask` can "
                         "be given. Received both.")
    q, k, v = as_float(query), as_float(key), as_float(value)
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError("keras.ops.dot_product_attention: query, key and value must be 4-D "
                         "(batch, steps, heads, depth). Received shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads % kv_heads or v.shape[2] != kv_heads:
        raise ValueError("keras.ops.dot_product_attention: the query heads must be a multiple "
                         f"of the key/value heads. Received shapes {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    if heads != kv_heads:
        k = ember.repeat_interleave(k, heads // kv_heads, dim=2)
        v = ember.repeat_interleave(v, heads // kv_heads, dim=2)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    logits = ember.einsum("btnh,bsnh->bnts", q, k) * scale
    if attn_logits_soft_cap is not None:
        logits = ember.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + as_float(bias)
    keep = None
    if mask is not None:
        keep = convert_to_tensor(mask).to(ember.bool)
    if is_causal:
        causal = ember.from_numpy(np.tril(np.ones((q.shape[1], k.shape[1]), dtype=bool)))
        keep = causal if keep is None else ember.logical_and(keep, causal)
    if keep is not None:
        # Keras' large negative, not -inf: a fully masked row stays finite.
        large_negative = -0.7 * (65500.0 if logits.dtype == ember.float16 else 3.38953e38)
        logits = logits + ember.where(keep, ember.zeros_like(logits),
                                      ember.full_like(logits, large_negative))
    probs = F.softmax(logits, dim=-1)
    return ember.einsum("bnts,bsnh->btnh", probs, v)


__all__ = ["batch_normalization", "dot_product_attention", "layer_normalization",
           "rms_normalization"]
