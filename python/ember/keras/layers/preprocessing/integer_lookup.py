"""keras.layers.IntegerLookup: integer tokens to contiguous indices (or back, with
``invert=True``); several OOV indices take ``token mod num_oov_indices`` (Keras' "floormod")
or a hash of the token's decimal string (oov_method="farmhash", see string_hash.py)."""
from __future__ import annotations

import math
import numbers

import numpy as np

import ember
from .index_lookup import IndexLookup
from .string_hash import hash_buckets, standardize_salt


def _token(name: str, value):
    """A mask or OOV token as the int Keras stores (None stays None); a token that is no finite
    number or lies outside int64 (the vocabulary's dtype) is a ValueError naming the argument."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not -2**63 <= int(value) < 2**63:
        raise ValueError(f"IntegerLookup: `{name}` must be an int64 integer or None. Received: "
                         f"{name}={value!r}")
    return int(value)


class IntegerLookup(IndexLookup):
    """Maps integer tokens to indices with a vocabulary given or learned by ``adapt``; the OOV
    token is -1 and integer-valued floats are accepted (a model passes float32 batches)."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError("IntegerLookup: oov_method must be one of 'floormod' or "
                             f"'farmhash'. Received: oov_method={oov_method!r}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError("`salt` can only be used when `oov_method='farmhash'`. Received: "
                             f"oov_method={oov_method}")
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = standardize_salt("IntegerLookup", salt)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=_token("mask_token", mask_token),
                         oov_token=_token("oov_token", oov_token),
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, name=name, **kwargs)

    def _tokens_of(self, values):
        if values.dtype.kind == "f":
            if not np.all(values == np.round(values)):
                raise ValueError(f'IntegerLookup "{self.name}": inputs must be integers; '
                                 "received non-integer values")
        elif values.dtype.kind not in "iub":
            raise ValueError(f'IntegerLookup "{self.name}": inputs must be integers. Received '
                             f"an array of dtype {values.dtype}")
        return values.astype(np.int64)

    def _oov_buckets(self, tokens):
        if self.oov_method == "farmhash":  # the hash of the decimal string, as Keras
            return np.asarray(hash_buckets([str(int(t)) for t in tokens], self.num_oov_indices,
                                            self.salt, "IntegerLookup(oov_method='farmhash')"),
                              np.int64)
        return np.mod(np.asarray(tokens, np.int64), self.num_oov_indices)

    def _inverted_output(self, tokens, shape):
        return ember.from_numpy(np.array(tokens, np.int64).reshape(shape))

    def get_config(self):
        config = {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype,
                  "oov_method": self.oov_method, "salt": self.salt}
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
