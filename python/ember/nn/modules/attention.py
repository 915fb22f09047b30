"""nn.MultiheadAttention with PyTorch's parameters and layout (in_proj_weight (3E, E) and
in_proj_bias, or q/k/v_proj_weight when kdim/vdim differ from embed_dim; out_proj a Linear;
bias_k/bias_v (1, 1, E)), so a PyTorch state_dict loads as it is."""
from __future__ import annotations

import numpy as np

from ...dtypes import to_numpy_dtype
from .. import init
from .._functional_mha import multi_head_attention_forward
from ..module import Module
from ..parameter import Parameter
from .linear import Linear
from .utils import _check_device, _is_int


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention.out_proj (so printed models and
    type checks read the same)."""


class MultiheadAttention(Module):
    """Attention of query over key/value pairs in num_heads heads of embed_dim // num_heads
    features. Inputs are (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        _check_device("MultiheadAttention", device)
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads),
                            ("kdim", kdim if kdim is not None else 1),
                            ("vdim", vdim if vdim is not None else 1)):
            if not _is_int(value) or value <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive integer. "
                                 f"Received: {name}={value!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout probability has to be between 0 and "
                             f"1, but got {dropout}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads. "
                             f"Received: embed_dim={embed_dim}, num_heads={num_heads}")
        self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = self.embed_dim // self.num_heads
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        E = self.embed_dim

        def empty(*shape):
            return Parameter(np.empty(shape, dtype=np_dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * E, E)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty(E, E)
            self.k_proj_weight = empty(E, self.kdim)
            self.v_proj_weight = empty(E, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * E)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, E)
            self.bias_v = empty(1, 1, E)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's: Glorot-uniform projections, zero biases, Glorot-normal bias_k/bias_v.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Returns (attn_output, attn_output_weights); the weights are None unless
        need_weights, and averaged over the heads when average_attn_weights."""
        batched = query.ndim == 3
        if self.batch_first and batched:
            # Keep self-attention's identity (query is key is value): one packed projection.
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
