"""keras.layers.Attention (Luong-style: dot-product or "concat" scores) and AdditiveAttention
(Bahdanau-style) on [query, value] or [query, value, key] of shape (batch, T, dim), with Keras
3's weights (``scale``, ``concat_score_weight``), masks ([query_mask, value_mask]: masked keys
get scores lowered by 1e9, masked queries zero outputs), causal masking and dropout of the
attention distribution."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ...nn import functional as F
from ..seeds import seeded_generator
from .layer import Layer
from .tensor_masks import get_mask

_MASKED_SCORE_DROP = 1.0e9  # Keras subtracts this from the scores of masked keys


def _mask_array(mask):
    if mask is None:
        return None
    arr = mask.detach().numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)
    return arr.astype(bool)


class Attention(Layer):
    """softmax(scores(query, key)) @ value; scores are query . key (times ``scale`` with
    use_scale) or, for score_mode="concat", concat_score_weight * sum(tanh(scale * (q + k)))."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of {'dot', "
                             f"'concat'}}. Received: score_mode={score_mode}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
                or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be a float between 0 and 1. "
                             f"Received: dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        # (not a Dropout sublayer: Keras' Attention has none, and its files have no place for it)
        self._generator = seeded_generator(seed)

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, "
                             f"value] or [query, value, key]. Received: inputs={inputs}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name} layer mask must be a list of length 2 or 3, namely "
                             f"[query_mask, value_mask]. Received: mask={mask}.")

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self._add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self._add_weight("concat_score_weight", (), "ones")

    def _calculate_scores(self, query, key):
        params = self._parameters
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            return scores * params["scale"] if self.use_scale else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.use_scale:
            summed = params["scale"] * summed
        return params["concat_score_weight"] * ember.tanh(summed).sum(dim=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        if mask is None and any(get_mask(t) is not None for t in inputs[:2]):
            mask = [get_mask(t) for t in inputs[:2]]
        q_mask = _mask_array(mask[0]) if mask else None
        v_mask = _mask_array(mask[1]) if mask else None
        scores = self._calculate_scores(q, k)
        keep = None if v_mask is None else v_mask[..., None, :]
        if use_causal_mask:
            causal = np.tril(np.ones((1,) + tuple(scores.shape[-2:]), dtype=bool))
            keep = causal if keep is None else keep & causal
        if keep is not None:
            drop = np.where(keep, 0.0, -_MASKED_SCORE_DROP).astype(scores.dtype.numpy)
            scores = scores + ember.from_numpy(np.ascontiguousarray(drop))
        weights = F.softmax(scores, dim=-1)
        used = weights
        if training and self.dropout > 0:
            used = F.dropout(weights, p=self.dropout, training=True, generator=self._generator)
        out = used @ v
        if q_mask is not None:
            out = out * ember.from_numpy(q_mask[..., None].astype(out.dtype.numpy))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return ember.from_numpy(np.ascontiguousarray(_mask_array(mask[0])))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Scores sum(scale * tanh(query + key)) with a learned ``scale`` of shape (dim,) (or
    without it when use_scale=False)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self._add_weight("scale", (tuple(input_shape[0])[-1],), "glorot_uniform")

    def _calculate_scores(self, query, key):
        summed = ember.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.use_scale:
            summed = self._parameters["scale"] * summed
        return summed.sum(dim=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
