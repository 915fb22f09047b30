"""keras.layers.Hashing: strings or integers to ``num_bins`` bins by a stable hash, as Keras
(through TensorFlow) computes it: farmhash Fingerprint64 by default (needs
``pip install "ember[text]"``), keyed SipHash-2-4 with ``salt``; integers hash as their
decimal strings. With ``mask_value`` that value goes to bin 0 and the rest to 1..num_bins-1."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from .category_encoding import as_numpy, encode_categorical
from .data_layer import NumpyDataLayer
from .string_hash import hash_buckets, standardize_salt

_MODES = ("int", "one_hot", "multi_hot", "count")


class Hashing(NumpyDataLayer):
    """Hashes each string or integer of the input to a bin in [0, num_bins)."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) \
                or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        output_mode = {"binary": "multi_hot"}.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"Hashing: Invalid value for argument output_mode. Expected one of "
                             f"{_MODES}. Received: output_mode={output_mode!r}")
        if sparse:
            raise NotImplementedError("Hashing: sparse=True (sparse tensors) is not supported "
                                      "by ember")
        self.strong_hash = salt is not None
        salt = standardize_salt("Hashing", salt)
        super().__init__(**kwargs)
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs):
        values = as_numpy(inputs)
        if values.dtype.kind == "S":
            values = np.char.decode(values, "utf-8")
        if values.dtype.kind == "f":
            raise ValueError(f'Hashing "{self.name}": inputs must be strings or integers. '
                             f"Received an array of dtype {values.dtype}")
        flat = values.reshape(-1).tolist()
        strings = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
        masked = np.zeros(len(flat), bool)
        if self.mask_value is not None:
            masked = np.array([v == self.mask_value or s == str(self.mask_value)
                               for v, s in zip(flat, strings)], bool)
        bins = self.num_bins - (1 if self.mask_value is not None else 0)
        hashed = np.zeros(len(flat), np.int64)
        todo = [s for s, m in zip(strings, masked) if not m]
        if todo and bins > 0:
            buckets = hash_buckets(todo, bins, self.salt, "keras.layers.Hashing")
            hashed[~masked] = np.asarray(buckets, np.int64) + (self.mask_value is not None)
        hashed = hashed.reshape(values.shape)
        if self.output_mode == "int":
            return ember.from_numpy(hashed)
        return ember.from_numpy(encode_categorical(hashed, self.output_mode, self.num_bins))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot" and (len(input_shape) <= 1 or input_shape[-1] != 1):
            return input_shape + (self.num_bins,)
        return input_shape[:-1] + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins,
                "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}
