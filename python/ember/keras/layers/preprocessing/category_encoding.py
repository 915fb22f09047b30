"""keras.layers.CategoryEncoding and the NumPy encoding of integer categories it shares with
the lookup layers: one_hot, multi_hot and count (optionally weighted) vectors of ``depth``."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ember._bounds import check_alloc
from .data_layer import NumpyDataLayer

_MODES = ("one_hot", "multi_hot", "count")


def as_numpy(inputs):
    if isinstance(inputs, ember.Tensor):
        return inputs.detach().numpy()
    return np.asarray(inputs)


def encode_categorical(indices, output_mode, depth, count_weights=None, skip=None):
    """Keras' encode_categorical_inputs in NumPy (float32). ``indices`` are integers in
    [0, depth) (negative ones encode to nothing); entries where ``skip`` is True (masked
    tokens) are left out. one_hot adds an axis (replacing a last axis of size 1); multi_hot and
    count reduce the last axis of a rank-2 input, or the only axis of a rank-1 one."""
    indices = np.asarray(indices, np.int64)
    if indices.ndim == 0:
        indices = indices[None]
    keep = indices >= 0 if skip is None else (indices >= 0) & ~np.asarray(skip)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices, keep = indices[..., 0], keep[..., 0]
        check_alloc("CategoryEncoding", indices.shape + (depth,), 4)
        out = np.zeros(indices.shape + (depth,), np.float32)
        where = np.nonzero(keep)
        out[where + (indices[where],)] = 1.0
        return out
    if indices.ndim > 2:
        raise ValueError(f"When output_mode is not 'int', maximum supported output rank is 2. "
                         f"Received output_mode {output_mode} and input shape "
                         f"{indices.shape}, which would result in output rank "
                         f"{indices.ndim + 1}.")
    rows = indices if indices.ndim == 2 else indices[None]
    keep = keep if keep.ndim == 2 else keep[None]
    weights = np.ones(rows.shape, np.float32)
    if count_weights is not None:
        weights = np.broadcast_to(np.asarray(count_weights, np.float32).reshape(
            (1,) * (2 - np.ndim(count_weights)) + np.shape(count_weights)), rows.shape)
    check_alloc("CategoryEncoding", (rows.shape[0], depth), 4)
    out = np.zeros((rows.shape[0], depth), np.float32)
    r, c = np.nonzero(keep)
    np.add.at(out, (r, rows[r, c]), weights[r, c])
    if output_mode == "multi_hot":
        out = (out > 0).astype(np.float32)
    return out if indices.ndim == 2 else out[0]


class CategoryEncoding(NumpyDataLayer):
    """Integer categories in [0, num_tokens) to dense float32 vectors ("multi_hot", "one_hot",
    "count"; "binary" is "multi_hot"). ``count_weights`` (count mode) weights each entry."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _MODES:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, numbers.Integral) \
                or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding: sparse=True (sparse tensors) is not "
                                      "supported by ember")
        super().__init__(**kwargs)
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                             f"Received `count_weights={count_weights}`.")
        values = as_numpy(inputs)
        if values.dtype.kind == "f" and not np.all(values == np.round(values)):
            raise ValueError(f'CategoryEncoding "{self.name}": inputs must be integer '
                             "categories; received non-integer values")
        values = values.astype(np.int64)
        if values.size and values.max() >= self.num_tokens:
            raise ValueError(f'CategoryEncoding "{self.name}": input values must be in the '
                             f"range [0, num_tokens={self.num_tokens}). Received a maximum of "
                             f"{values.max()} in inputs of shape {values.shape}")
        weights = None if count_weights is None else as_numpy(count_weights)
        if weights is not None and weights.shape != values.shape:
            raise ValueError(f'CategoryEncoding "{self.name}": count_weights of shape '
                             f"{weights.shape} must match the inputs' shape {values.shape}")
        return ember.from_numpy(encode_categorical(values, self.output_mode, self.num_tokens,
                                                   weights))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}
