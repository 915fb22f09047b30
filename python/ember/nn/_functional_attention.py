"""F.scaled_dot_product_attention with PyTorch 2.13's semantics: a boolean attn_mask says which
keys take part (True), a float one is added to the scores, is_causal masks the upper triangle
(top-left aligned), batch dimensions broadcast, a query whose keys are all masked out gets zeros,
and dropout_p applies to the attention weights whenever it is positive."""
from __future__ import annotations

import math

import numpy as np

from .. import _core
from ..arrange_functions import repeat_interleave
from ..ops.attention import ScaledDotProductAttention
from ..random import kernel_seed
from ..tensor import Tensor
from ._functional_dropout import check_dropout_p

_OP = "scaled_dot_product_attention"


def _check_inputs(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_OP}: {name} must be a Tensor, got {type(t).__name__}")
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise _core.ShapeError(f"{_OP}: expected query, key and value to be at least "
                               f"2-dimensional, got {shapes}")
    dtypes = {query._array.dtype, key._array.dtype, value._array.dtype}
    if len(dtypes) != 1:
        raise TypeError(f"{_OP}: expected query, key and value to have the same dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if query._array.dtype.kind != "f":
        raise TypeError(f"{_OP}: expected floating point query, key and value, got {query.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise _core.ShapeError(f"{_OP}: query and key need the same last dimension and key and "
                               f"value the same sequence length, got {shapes}")


def _batch(query, key, value):
    try:
        return np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise _core.ShapeError(f"{_OP}: the batch dimensions of query {tuple(query.shape)}, key "
                               f"{tuple(key.shape)}, value {tuple(value.shape)} cannot be "
                               "broadcast") from None


def _grouped(query, key, value):
    """enable_gqa: key and value heads (dim -3) repeated so that each serves a group of query
    heads."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise _core.ShapeError(f"{_OP}: enable_gqa needs a heads dimension (-3), got query "
                               f"{tuple(query.shape)}, key {tuple(key.shape)}, value "
                               f"{tuple(value.shape)}")
    heads, kv_heads = query.shape[-3], key.shape[-3]
    if value.shape[-3] != kv_heads or kv_heads == 0 or heads % kv_heads:
        raise _core.ShapeError(f"{_OP}: Number of heads in key and value must divide the number "
                               f"of heads in query, got query {tuple(query.shape)}, key "
                               f"{tuple(key.shape)}, value {tuple(value.shape)}")
    if heads == kv_heads:
        return key, value
    reps = heads // kv_heads
    return (repeat_interleave(key, reps, dim=-3), repeat_interleave(value, reps, dim=-3))


def _bias(attn_mask, is_causal, query, L, S, scores_shape):
    """The additive bias of the scores: the float mask itself, or 0/-inf from a boolean mask or
    the causal triangle; None when nothing is masked."""
    dtype = query._array.dtype
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{_OP}: Explicit attn_mask should not be set when is_causal=True")
        keep = np.tril(np.ones((L, S), dtype=bool))
        return np.where(keep, dtype.type(0), dtype.type(-np.inf))
    if attn_mask is None:
        return None
    mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(np.asarray(attn_mask))
    kind = mask._array.dtype
    if kind != np.bool_ and kind != dtype:
        raise TypeError(f"{_OP}: Expected attn_mask dtype to be bool or to match query dtype, "
                        f"but got attn_mask.dtype: {mask.dtype} and query.dtype: {query.dtype}")
    try:
        fits = np.broadcast_shapes(tuple(mask.shape), scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise _core.ShapeError(f"{_OP}: attn_mask of shape {tuple(mask.shape)} does not "
                               f"broadcast to the attention scores' shape {scores_shape}")
    if kind == np.bool_:
        return np.where(mask._array, dtype.type(0), dtype.type(-np.inf))
    return mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value for query (..., L, E), key (..., S, E) and
    value (..., S, Ev); returns (..., L, Ev). scale defaults to 1/sqrt(E)."""
    check_dropout_p(_OP, dropout_p)
    _check_inputs(query, key, value)
    if enable_gqa:
        key, value = _grouped(query, key, value)
    batch = _batch(query, key, value)
    L, S = query.shape[-2], key.shape[-2]
    bias = _bias(attn_mask, bool(is_causal), query, L, S, batch + (L, S))
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0:
        keep = np.empty(batch + (L, S), query._array.dtype)
        _core.dropout_mask(keep, float(dropout_p), kernel_seed(None))
    return ScaledDotProductAttention.apply(query, key, value, bias, scale=factor, keep=keep)
