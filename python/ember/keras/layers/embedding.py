"""keras.layers.Embedding: rows of ``embeddings`` (input_dim, output_dim) at integer indices,
computed by ember.nn.functional.embedding. With ``mask_zero=True`` index 0 is padding: the layer
returns the mask ``inputs != 0`` (compute_mask) that the next recurrent layer consumes."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ...nn import functional as F
from .. import constraints, initializers, regularizers
from .layer import Layer, weight_options_config


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Embedding: {name} must be a positive integer. Received: "
                         f"{name}={value!r}")
    return int(value)


class Embedding(Layer):
    """Turns indices (batch, ...) into vectors (batch, ..., output_dim). Float inputs are cast
    to integers as Keras does; indices outside [0, input_dim) raise an error."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, input_length=None, **kwargs):
        if lora_rank is not None:
            raise NotImplementedError("Embedding: lora_rank is not supported by ember")
        self.input_dim = _check_positive("input_dim", input_dim)
        self.output_dim = _check_positive("output_dim", output_dim)
        super().__init__(**kwargs)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        # input_length (Keras 2) is accepted and ignored, as Keras 3 does.
        if weights is not None:
            self.build()
            self.set_weights(weights)

    def build(self, input_shape=None):
        self._add_weight("embeddings", (self.input_dim, self.output_dim),
                         self.embeddings_initializer, regularizer=self.embeddings_regularizer,
                         constraint=self.embeddings_constraint, name="embeddings")
        self.built = True

    def forward(self, inputs, *args, **kwargs):
        if not isinstance(inputs, ember.Tensor):
            array = np.asarray(inputs)
            if array.dtype.kind in "iub":  # keep integer ids exact (as_tensor gives float32)
                inputs = ember.from_numpy(np.ascontiguousarray(array, dtype=np.int64))
        return super().forward(inputs, *args, **kwargs)

    def call(self, inputs):
        if inputs.dtype not in (ember.int64,):
            inputs = inputs.long()  # Keras casts inputs to an integer dtype
        return F.embedding(inputs, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        ids = inputs.numpy() if isinstance(inputs, ember.Tensor) else np.asarray(inputs)
        return ember.from_numpy(ids != 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                **weight_options_config(self, "embeddings"), "mask_zero": self.mask_zero}

