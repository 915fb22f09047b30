"""multi_head_attention_forward, the computation behind nn.MultiheadAttention, with PyTorch
2.13's semantics: sequence-first (L, N, E) or unbatched (L, E) inputs, the packed in_proj_weight
or separate q/k/v projection weights, bias_k/bias_v and add_zero_attn columns, boolean masks
where True means "masked out" (the opposite of scaled_dot_product_attention's), float masks
added to the scores, and attention weights returned (averaged over heads or not) only when
need_weights asks for them. (Not re-exported by nn.functional, which this module imports.)"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _core
from ..functions import bmm, cat
from ..math_functions import baddbmm
from ..tensor import Tensor
from . import functional as F
from ._functional_attention import scaled_dot_product_attention
from ._functional_conv import pad
from ._functional_dropout import check_dropout_p

_OP = "multi_head_attention_forward"


def _is_float(t):
    return t._array.dtype.kind == "f"


def canonical_mask(mask, name, dtype):
    """A boolean mask as a float one (-inf where True, 0 elsewhere); a float mask unchanged."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    kind = mask._array.dtype
    if kind == np.bool_:
        return Tensor(np.where(mask._array, np.array(-np.inf, dtype), np.array(0, dtype)))
    if kind.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are "
                        f"supported, got {mask.dtype}")
    return mask


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (L, N, E) input, False for unbatched (L, E); raises on anything else."""
    shapes = (f"query {tuple(query.shape)}, key {tuple(key.shape)}, value "
              f"{tuple(value.shape)}")
    if query.ndim not in (2, 3):
        raise _core.ShapeError(f"MultiheadAttention: query should be unbatched 2D or batched 3D "
                               f"tensor but received {query.ndim}-D query tensor ({shapes})")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise _core.ShapeError(f"MultiheadAttention: for {query.ndim}-D query, expected key and "
                               f"value to be {query.ndim}-D, got {shapes}")
    want_kpm = 2 if batched else 1
    if key_padding_mask is not None and key_padding_mask.ndim != want_kpm:
        raise _core.ShapeError(f"MultiheadAttention: for {query.ndim}-D query, expected "
                               f"key_padding_mask to be None or {want_kpm}-D, got shape "
                               f"{tuple(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise _core.ShapeError(f"MultiheadAttention: expected attn_mask to be None, 2-D or 3-D, "
                               f"got shape {tuple(attn_mask.shape)}")
    if (not batched and attn_mask is not None and attn_mask.ndim == 3
            and tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0])):
        raise _core.ShapeError(f"MultiheadAttention: Expected attn_mask shape to be "
                               f"{(num_heads, query.shape[0], key.shape[0])} but got "
                               f"{tuple(attn_mask.shape)}")
    return batched


def _project(query, key, value, in_proj_weight, in_proj_bias, separate, weights):
    """q, k, v projections: one GEMM for self-attention with the packed weight."""
    if not separate:
        if query is key and key is value:
            return F.linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        w = in_proj_weight.chunk(3)
        b = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    else:
        w = weights
        b = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    return tuple(F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), w, b))


def _attn_mask_3d(attn_mask, tgt_len, src_len, bsz, num_heads):
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise _core.ShapeError(f"MultiheadAttention: The shape of the 2D attn_mask is "
                                   f"{tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
        raise _core.ShapeError(f"MultiheadAttention: The shape of the 3D attn_mask is "
                               f"{tuple(attn_mask.shape)}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")
    return attn_mask


def _heads(x, length, bsz, num_heads, head_dim):
    """(length, N, E) -> (N * heads, length, head_dim)."""
    return x.reshape(length, bsz * num_heads, head_dim).transpose(0, 1)


def _static(t, name, bsz, num_heads, head_dim):
    if t.ndim != 3 or t.shape[0] != bsz * num_heads or t.shape[2] != head_dim:
        raise _core.ShapeError(f"MultiheadAttention: expecting {name} of shape "
                               f"({bsz * num_heads}, S, {head_dim}), got {tuple(t.shape)}")
    return t


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Returns (attn_output, attn_output_weights or None); see nn.MultiheadAttention."""
    check_dropout_p("MultiheadAttention", dropout_p)
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    dtype = query._array.dtype
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype \
            != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=3)
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("MultiheadAttention: Need attn_mask if specifying the is_causal hint. "
                           "You may use the Transformer module method "
                           "`generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise _core.ShapeError(f"MultiheadAttention: was expecting embedding dimension of "
                               f"{embed_dim_to_check}, but got {embed_dim} (query shape "
                               f"{tuple(query.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} not divisible by num_heads "
                         f"{num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise _core.ShapeError(f"MultiheadAttention: key's sequence and batch dims "
                                   f"{tuple(key.shape[:2])} do not match value's "
                                   f"{tuple(value.shape[:2])}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError("MultiheadAttention: use_separate_proj_weight is True but a "
                             "q/k/v_proj_weight is None")
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise _core.ShapeError(f"MultiheadAttention: key shape {tuple(key.shape)} does not "
                                   f"match value shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise ValueError("MultiheadAttention: use_separate_proj_weight is False but "
                             "in_proj_weight is None")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, (q_proj_weight, k_proj_weight, v_proj_weight))
    src_len = key.shape[0]
    if attn_mask is not None:
        attn_mask = _attn_mask_3d(attn_mask, tgt_len, src_len, bsz, num_heads)
    if (bias_k is None) != (bias_v is None):
        raise ValueError("MultiheadAttention: bias_k and bias_v must be given together")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("MultiheadAttention: bias cannot be added to static key or value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    q = _heads(q, tgt_len, bsz, num_heads, head_dim)
    k = (_heads(k, k.shape[0], bsz, num_heads, head_dim) if static_k is None
         else _static(static_k, "static_k", bsz, num_heads, head_dim))
    v = (_heads(v, v.shape[0], bsz, num_heads, head_dim) if static_v is None
         else _static(static_v, "static_v", bsz, num_heads, head_dim))
    if add_zero_attn:
        k = pad(k, (0, 0, 0, 1))
        v = pad(v, (0, 0, 0, 1))
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise _core.ShapeError(f"MultiheadAttention: expected key_padding_mask of shape "
                                   f"{(bsz, src_len)}, got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        out, weights = _attention_with_weights(q, k, v, attn_mask, dropout_p)
    else:
        out, weights = _attention(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads), None
    out = out.reshape(bsz, num_heads, tgt_len, head_dim).permute(2, 0, 1, 3)
    out = F.linear(out.reshape(tgt_len * bsz, embed_dim), out_proj_weight, out_proj_bias)
    out = out.reshape(tgt_len, bsz, out.shape[1])
    if weights is not None:
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            weights = weights.squeeze(0)
    if not batched:
        out = out.squeeze(1)
    return out, weights


def _attention_with_weights(q, k, v, attn_mask, dropout_p):
    """The explicit path PyTorch takes when the weights are returned: a plain softmax, so a
    query whose keys are all masked gives NaN, as there."""
    q_scaled = q * math.sqrt(1.0 / float(q.shape[-1]))
    kt = k.transpose(-2, -1)
    scores = bmm(q_scaled, kt) if attn_mask is None else baddbmm(attn_mask, q_scaled, kt)
    weights = F.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return bmm(weights, v), weights


def _attention(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads):
    tgt_len, head_dim, src_len = q.shape[1], q.shape[2], k.shape[1]
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    return scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
