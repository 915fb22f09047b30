"""keras.layers.StringLookup: strings to indices (or back, with ``invert=True``)."""
from __future__ import annotations

import numpy as np

from .index_lookup import IndexLookup
from .string_hash import hash_buckets, standardize_salt


class StringLookup(IndexLookup):
    """Maps strings to integer indices with a vocabulary given or learned by ``adapt``.
    Inputs are str or bytes (decoded with ``encoding``) in a list or NumPy array of any shape.
    With ``num_oov_indices > 1`` unknown strings go to OOV slots by farmhash Fingerprint64
    (``pip install "ember[text]"``), or by SipHash-2-4 keyed by ``salt``, as in Keras."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None,
                 salt=None, **kwargs):
        # Keras' IndexLookup takes oov_method; strings are hashed either way.
        oov_method = kwargs.pop("oov_method", "floormod")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError("StringLookup: oov_method must be one of 'floormod' or 'farmhash'. "
                             f"Received: oov_method={oov_method!r}")
        self.oov_method = oov_method
        self.salt = standardize_salt("StringLookup", salt)
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, name=name,
                         **kwargs)

    def _tokens_of(self, values):
        if self.invert and values.dtype.kind in "iu":
            return values
        if values.dtype.kind == "S":
            return np.char.decode(values, self.encoding).astype(object)
        if values.dtype.kind == "U":
            return values.astype(object)
        if values.dtype.kind == "O":
            return np.vectorize(self._as_text, otypes=[object])(values) if values.size \
                else values
        raise ValueError(f'StringLookup "{self.name}": inputs must be strings. Received an '
                         f"array of dtype {values.dtype}")

    def _as_text(self, value):
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if not isinstance(value, str):
            raise ValueError(f'StringLookup "{self.name}": inputs must be strings. Received '
                             f"{value!r}")
        return value

    def _oov_buckets(self, tokens):
        return np.asarray(hash_buckets([str(t) for t in tokens], self.num_oov_indices, self.salt,
                                       "StringLookup(num_oov_indices > 1)"), np.int64)

    def _inverted_output(self, tokens, shape):
        return np.array(tokens, dtype=object).reshape(shape).astype(str)

    def get_config(self):
        return {**super().get_config(), "oov_method": self.oov_method, "salt": self.salt,
                "encoding": self.encoding}
