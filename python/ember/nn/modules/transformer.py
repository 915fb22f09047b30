"""nn.TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder
and Transformer with PyTorch's submodule names (self_attn, multihead_attn, linear1/2,
norm1/2/3, dropout/dropout1/2/3; encoder.layers.N, decoder.layers.N, encoder.norm), so a PyTorch
state_dict loads, and its arguments and defaults (post-LN unless norm_first, ReLU, dropout 0.1,
sequence-first unless batch_first).

PyTorch's TransformerEncoder, in eval mode without gradients and given a right-padded
src_key_padding_mask (batch_first layers, post-LN, ...: its nested-tensor conditions), computes
only the unpadded positions and returns zeros (then the final norm) at the padded ones; ember
computes every position the same way and then gives the padded ones what PyTorch gives."""
from __future__ import annotations

import copy

import numpy as np

from ..._bounds import check_layer_count
from ...autograd import is_grad_enabled
from ...dtypes import to_numpy_dtype
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _square_causal(sz, dtype):
    return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1)


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """is_causal as given, or (when None) whether mask equals the square causal float mask."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    arr = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
    sz = size if size is not None else arr.shape[-2]
    causal = _square_causal(sz, arr.dtype if arr.dtype.kind == "f" else np.float32)
    return arr.shape == causal.shape and bool((arr == causal).all())


def _nested_capable(layer):
    """PyTorch's conditions on the layer for TransformerEncoder's nested-tensor path."""
    attn = getattr(layer, "self_attn", None)
    return (isinstance(layer, TransformerEncoderLayer) and not layer.norm_first
            and attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and (layer.activation in (F.relu, F.gelu) or isinstance(layer.activation,
                                                                    (ReLU, GELU)))
            and layer.norm1.eps == layer.norm2.eps and attn.num_heads % 2 == 0)


def _clones(cls, argument, module, n):
    if not isinstance(module, Module):
        raise TypeError(f"{cls}: {argument} must be an nn.Module to copy num_layers times, got "
                        f"{type(module).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{cls}: num_layers must be a non-negative integer. Received: "
                         f"num_layers={n!r}")
    tensors = list(module.parameters()) + list(module.buffers())
    check_layer_count(cls, int(n), sum(t._array.nbytes for t in tensors), len(tensors))
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _seq_len(layers, src):
    """The sequence length of src, found as the (first) layer's batch_first says."""
    batch_first = len(layers) > 0 and layers[0].self_attn.batch_first
    return src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]


def _check_layer_args(cls, d_model, nhead, dim_feedforward, dropout):
    for name, value in (("d_model", d_model), ("nhead", nhead),
                        ("dim_feedforward", dim_feedforward)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{cls}: {name} must be a positive integer. Received: "
                             f"{name}={value!r}")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"{cls}: dropout probability has to be between 0 and 1, but got "
                         f"{dropout}")


class _TransformerLayer(Module):
    """The constructor both layer kinds share: submodules registered in PyTorch's order so
    state_dict keys come out the same; a decoder layer (_cross_attention) adds multihead_attn
    and a third norm and dropout."""

    _cross_attention = False

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _check_layer_args(type(self).__name__, d_model, nhead, dim_feedforward, dropout)
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        if self._cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        blocks = 3 if self._cross_attention else 2
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after the residual sum, or before the block with norm_first)."""


    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention over the target, attention to the encoder's memory, and a feed-forward
    block; each with a residual connection and LayerNorm."""

    _cross_attention = True

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer, then the optional norm."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones("TransformerEncoder", "encoder_layer", encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor and _nested_capable(encoder_layer)
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(self.layers, src))
        keep = self._nested_keep(src, mask, src_key_padding_mask)
        out = src
        for mod in self.layers:
            out = mod(out, src_mask=mask, is_causal=is_causal,
                      src_key_padding_mask=src_key_padding_mask)
        if keep is not None:  # PyTorch's nested path pads with zeros
            out = out * Tensor(keep[..., None].astype(out._array.dtype))
        return self.norm(out) if self.norm is not None else out

    def _nested_keep(self, src, mask, src_key_padding_mask):
        """The (batch, seq) positions PyTorch's nested-tensor path keeps, when it takes it."""
        if (not self.use_nested_tensor or self.layers[0].training or src.ndim != 3
                or src_key_padding_mask is None or mask is not None):
            return None
        first = self.layers[0]
        if is_grad_enabled() and (src.requires_grad
                                  or any(p.requires_grad for p in first.parameters())):
            return None
        pad = src_key_padding_mask
        arr = pad._array if isinstance(pad, Tensor) else np.asarray(pad)
        keep = ~arr if arr.dtype == np.bool_ else arr == 0
        if keep.shape != tuple(src.shape[:2]) or not (keep[:, 1:] <= keep[:, :-1]).all():
            return None  # (not left-aligned: PyTorch's mask check leaves the fast path too)
        return keep


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer, then the optional norm."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones("TransformerDecoder", "decoder_layer", decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal,
                                               _seq_len(self.layers, tgt))
        out = tgt
        for mod in self.layers:
            out = mod(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self.norm(out) if self.norm is not None else out


class Transformer(Module):
    """The encoder-decoder model of "Attention Is All You Need"."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.ndim == 3
        if batched:
            b = 0 if self.batch_first else 1
            if src.shape[b] != tgt.shape[b]:
                raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, "
                                   f"got src {tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal to "
                               f"d_model={self.d_model}, got src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask: -inf above the diagonal (future positions), 0 elsewhere."""
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
        return Tensor(_square_causal(int(sz), np_dtype))

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
