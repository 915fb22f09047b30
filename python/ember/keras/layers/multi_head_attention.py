"""keras.layers.MultiHeadAttention with Keras 3's weights: sublayers ``query``, ``key``, ``value``
(kernels (dim, num_heads, key_dim or value_dim), biases (num_heads, dim)), an optional sigmoid
``gate`` and ``attention_output`` (kernel (num_heads, value_dim, *output_shape)), in Keras'
weight order, so get_weights/set_weights and .keras files carry over.

Keras computes the attention two ways and so does this layer: without dropout and without
returned scores through dot_product_attention (masked scores get a large negative bias, so a
query with no visible key averages all values); otherwise explicitly, with a masked softmax
that gives such a query zero weights. Inputs of higher rank attend over
``attention_axes`` (default: every axis between the batch and the features); masks are taken
for (batch, steps, features) inputs only."""
from __future__ import annotations

import math
import numbers

import numpy as np

import ember
from ...nn import functional as F
from .. import constraints, initializers, regularizers
from .dropout import Dropout
from .layer import Layer, as_tensor
from .softmax import Softmax
from .tensor_masks import get_mask, set_mask

_LARGE_NEGATIVE = -0.7 * 3.38953e38  # Keras' dot_product_attention mask bias (float32)


class _Projection(Layer):
    """Keras' EinsumDense for one of MultiHeadAttention's projections: the last ``n_in`` axes
    of the input map to ``out_dims`` (equations ``abc,cde->abde`` for the query, key and value
    with n_in 1; ``abcd,cde->abe`` for the output with n_in 2, heads and depth in). The kernel
    is stored in Keras' layout, (*contracted dims, *out_dims)."""

    def __init__(self, out_dims, use_bias, options, activation=None, n_in=1, **kwargs):
        super().__init__(**kwargs)
        self.out_dims = tuple(out_dims)
        self.n_in = n_in
        self.use_bias = use_bias
        self.options = options
        self.activation = activation

    def build(self, input_shape):
        in_dims = tuple(input_shape[-self.n_in:])
        o = self.options
        self._add_weight("kernel", in_dims + self.out_dims, o["kernel_initializer"],
                         regularizer=o["kernel_regularizer"], constraint=o["kernel_constraint"])
        if self.use_bias:
            self._add_weight("bias", self.out_dims, o["bias_initializer"],
                             regularizer=o["bias_regularizer"], constraint=o["bias_constraint"])

    def call(self, inputs):
        lead = tuple(inputs.shape[:-self.n_in])
        fan_in = int(np.prod(inputs.shape[-self.n_in:]))
        params = self._parameters
        out = inputs.reshape(-1, fan_in) @ params["kernel"].reshape(fan_in, -1)
        if params.get("bias") is not None:
            out = out + params["bias"].reshape(-1)
        out = out.reshape(*lead, *self.out_dims)
        return ember.sigmoid(out) if self.activation == "sigmoid" else out


def _positive_int(name, value, optional=False):
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        expected = "a positive integer or `None`" if optional else "a positive integer"
        raise ValueError(f"Received an invalid value for argument `{name}`, expected "
                         f"{expected}. Received: {name}={value}")


class MultiHeadAttention(Layer):
    """Attention of ``query`` (batch, T, dim) over ``value`` (batch, S, dim) (and ``key``,
    default ``value``) in ``num_heads`` heads; returns (batch, T, output_shape or dim)."""

    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        _positive_int("num_heads", num_heads)
        _positive_int("key_dim", key_dim)
        _positive_int("value_dim", value_dim, optional=True)
        if flash_attention:
            raise NotImplementedError("MultiHeadAttention: flash_attention=True is not "
                                      "supported by ember")
        if not isinstance(dropout, numbers.Real) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be a float between 0 and 1. "
                             f"Received: dropout={dropout!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._num_heads, self._key_dim = int(num_heads), int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout, self._use_bias, self._use_gate = float(dropout), bool(use_bias), use_gate
        if output_shape:
            if isinstance(output_shape, numbers.Integral):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(int(d) for d in output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the "
                                 "`output_shape` should be of type tuple, list, or int.") from None
        self._output_shape = output_shape or None
        if isinstance(attention_axes, numbers.Integral):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple."
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        if sliding_window is not None:
            _positive_int("sliding_window", sliding_window)
        self._sliding_window = sliding_window
        self._flash_attention = flash_attention
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def get_config(self):
        return {**super().get_config(), "num_heads": self._num_heads, "key_dim": self._key_dim,
                "value_dim": self._value_dim, "dropout": self._dropout,
                "use_bias": self._use_bias, "use_gate": self._use_gate,
                "output_shape": self._output_shape, "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint),
                "seed": self.seed}

    def _options(self):
        # each sublayer gets its own copy of the initializers, as Keras does
        return {"kernel_initializer": initializers.deserialize(
                    initializers.serialize(self._kernel_initializer)),
                "bias_initializer": initializers.deserialize(
                    initializers.serialize(self._bias_initializer)),
                "kernel_regularizer": self._kernel_regularizer,
                "bias_regularizer": self._bias_regularizer,
                "kernel_constraint": self._kernel_constraint,
                "bias_constraint": self._bias_constraint}

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            raise ValueError("MultiHeadAttention.build needs query_shape and value_shape")
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={tuple(value_shape)} and "
                             f"key_shape={tuple(key_shape)}")
        rank = len(query_shape)
        if not rank == len(value_shape) == len(key_shape) or rank < 3:
            raise ValueError("MultiHeadAttention: query, value and key need the same rank, at "
                             f"least 3. Received: query_shape={tuple(query_shape)}, "
                             f"value_shape={tuple(value_shape)}, key_shape={tuple(key_shape)}")
        axes = tuple(range(1, rank - 1)) if self._attention_axes is None else tuple(
            a if a >= 0 else rank + a for a in self._attention_axes)
        if not axes or any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"MultiHeadAttention: attention_axes must name distinct axes "
                             f"between the batch and the feature axis of rank-{rank} inputs. "
                             f"Received: attention_axes={self._attention_axes}")
        self._attention_axes = axes
        heads = self._num_heads
        self.query_dense = _Projection((heads, self._key_dim), self._use_bias, self._options(),
                                       name="query")
        self.query_dense._maybe_build(query_shape)
        self.key_dense = _Projection((heads, self._key_dim), self._use_bias, self._options(),
                                     name="key")
        self.key_dense._maybe_build(key_shape)
        if self._use_gate:  # (Keras has no public property for it: saved as _gate_dense)
            self._gate_dense = _Projection((heads, self._value_dim), self._use_bias,
                                          self._options(), activation="sigmoid", name="gate")
            self._gate_dense._maybe_build(query_shape)
        self.value_dense = _Projection((heads, self._value_dim), self._use_bias,
                                       self._options(), name="value")
        self.value_dense._maybe_build(value_shape)
        self._softmax = Softmax(axis=(3,))
        self._dropout_layer = Dropout(rate=self._dropout, seed=self.seed)
        self.output_dense = _Projection(self._output_shape or (query_shape[-1],),
                                        self._use_bias, self._options(), n_in=2,
                                        name="attention_output")
        self.output_dense._maybe_build(tuple(query_shape[:-1]) + (heads, self._value_dim))
        self.built = True

    def forward(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise TypeError("MultiHeadAttention.call() missing required argument: 'value'")
        if not self.built and isinstance(query, (ember.Tensor, np.ndarray)):
            self.build(tuple(query.shape), tuple(value.shape),
                       None if key is None else tuple(key.shape))
        return super().forward(query, value, key=key, **kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query, value = as_tensor(query), as_tensor(value)
        key = value if key is None else as_tensor(key)
        query_mask = get_mask(query) if query_mask is None else query_mask
        value_mask = get_mask(value) if value_mask is None else value_mask
        if key is not value and key_mask is None:
            key_mask = get_mask(key)
        for t in (query, value, key):  # Keras: the masks are consumed here, not passed on
            set_mask(t, None)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self._sliding_window is None)
        mask = None if causal_only else self._attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        if query.ndim > 3 and (mask is not None or causal_only):
            raise NotImplementedError("MultiHeadAttention: ember takes masks (Keras masks, "
                                      "attention_mask, use_causal_mask, sliding_window) only "
                                      "for (batch, steps, features) inputs")
        gate = self._gate_dense(query) if self._use_gate else None
        q, k, v = self.query_dense(query), self.key_dense(key), self.value_dense(value)
        (q, q_layout), (k, k_layout), (v, _) = (self._as_steps(t) for t in (q, k, v))
        out, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores,
                                              causal_only)
        out, scores = self._from_steps(out, scores, q_layout, k_layout)
        out = self.output_dense(out if gate is None else out * gate)
        if query_mask is not None:
            set_mask(out, query_mask)
        return (out, scores) if return_attention_scores else out

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        """Keras' merge of the masks into one boolean (batch, T, S) (or broadcastable)."""
        t, s = query.shape[1], value.shape[1]
        masks = []
        if query_mask is not None:
            masks.append(_bool(query_mask)[:, :, None])
        if value_mask is not None:
            masks.append(_bool(value_mask)[:, None, :])
        if key_mask is not None:
            masks.append(_bool(key_mask)[:, None, :])
        if use_causal_mask:
            masks.append(np.tril(np.ones((1, t, s), dtype=bool)))
        if self._sliding_window is not None:
            rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
            masks.append((np.abs(rows - cols) < self._sliding_window)[None])
        if attention_mask is not None:
            masks.insert(0, _bool(attention_mask))
        if not masks:
            return None
        merged = masks[0]
        for m in masks[1:]:
            merged = merged & m
        return merged

    def _compute_attention(self, q, k, v, mask, training, return_scores, causal_only):
        """q (B, T, N, Dk), k (B, S, N, Dk), v (B, S, N, Dv) -> (B, T, N, Dv), scores."""
        qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if self._dropout == 0.0 and not return_scores:
            bias = None
            if mask is not None:
                dtype = q.dtype.numpy
                bias = ember.from_numpy(np.where(_four_d(mask), dtype.type(0),
                                                 dtype.type(_LARGE_NEGATIVE)))
            out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias,
                                                 is_causal=causal_only,
                                                 scale=self._inverse_sqrt_key_dim)
            return out.transpose(1, 2), None
        if causal_only:
            mask = np.tril(np.ones((1, q.shape[1], k.shape[1]), dtype=bool))
        scores = (qh * self._inverse_sqrt_key_dim) @ kh.transpose(-2, -1)
        keep = None if mask is None else ember.from_numpy(np.ascontiguousarray(_four_d(mask)))
        scores = self._softmax(scores, mask=keep)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0 \
            else scores
        return (dropped @ vh).transpose(1, 2), scores

    def _as_steps(self, x):
        """Projected (B, *dims, heads, depth) as (B', steps, heads, depth): the non-attention
        axes join the batch, the attention axes become one steps axis (Keras' softmax runs
        over all attention axes together). Returns it and what undoes it."""
        rank = x.ndim - 1
        axes = self._attention_axes
        others = [a for a in range(1, rank - 1) if a not in axes]
        perm = [0] + others + list(axes) + [rank - 1, rank]
        moved = x.permute(*perm) if perm != list(range(x.ndim)) else x
        shape = tuple(moved.shape)
        nb = len(others) + 1
        steps = int(np.prod(shape[nb:nb + len(axes)]))
        return moved.reshape(-1, steps, *shape[-2:]), (perm, shape, nb)

    def _from_steps(self, out, scores, q_layout, k_layout):
        perm, shape, nb = q_layout
        out = out.reshape(*shape[:-1], out.shape[-1])
        if perm != list(range(len(perm))):
            out = out.permute(*np.argsort(perm).tolist())
        if scores is not None:
            _, k_shape, _ = k_layout
            scores = scores.reshape(*shape[:nb], scores.shape[1], *shape[nb:-2],
                                    *k_shape[nb:-2])
        return out, scores

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None and key_shape is not None \
                and tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={tuple(value_shape)} and "
                             f"key_shape={tuple(key_shape)}")
        if self._output_shape:
            return query_shape[:-1] + self._output_shape
        return query_shape


def _bool(mask):
    arr = mask.numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)
    return arr.astype(bool)


def _four_d(mask):
    """A (batch, T, S) mask (or one of lower rank) with the heads axis added: Keras expands at
    axis -3 until the rank is 4."""
    while mask.ndim < 4:
        mask = np.expand_dims(mask, -3)
    return mask
