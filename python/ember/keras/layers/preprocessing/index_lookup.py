"""The base of keras.layers.StringLookup and IntegerLookup: a vocabulary of tokens mapped to
integer indices, held in NumPy and Python (strings never enter ember tensors).

Index layout, as Keras': the mask token (output_mode "int" only) at 0, then
``num_oov_indices`` out-of-vocabulary slots, then the vocabulary. ``adapt`` counts tokens and
orders them by count, ties by the token itself, both descending (Keras' lexsort); the mask and
OOV tokens are never learned. Outputs are ember tensors (int64 indices, float32 encodings);
inverted StringLookup returns a NumPy array of strings."""
from __future__ import annotations

import collections
import numbers

import numpy as np

import ember
from .category_encoding import as_numpy, encode_categorical
from .data_layer import NumpyDataLayer

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class IndexLookup(NumpyDataLayer):
    """Subclasses say how values become tokens (``_tokens_of``), where OOV tokens go when
    there are several OOV indices (``_oov_buckets``) and what inverting returns."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, name=None, **kwargs):
        owner = type(self).__name__
        if max_tokens is not None and (not _is_int(max_tokens) or max_tokens <= 1):
            raise ValueError(f"{owner}: If set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{owner}: If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if not _is_int(num_oov_indices) or num_oov_indices < 0:
            raise ValueError(f"{owner}: `num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"{owner}: Invalid value for argument output_mode. Expected one of "
                             f"{_MODES}. Received: output_mode={output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{owner}: `output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise NotImplementedError(f"{owner}: sparse=True (sparse tensors) is not supported "
                                      "by ember")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{owner}: `idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._frozen_vocab_size = frozen_size
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens: list = []  # the learned or given vocabulary, without special tokens
        self._index: dict = {}
        self.idf_weights = None
        self._counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0
        if isinstance(vocabulary, str):
            raise NotImplementedError(f"{owner}: a vocabulary file path is not supported by "
                                      "ember; pass the vocabulary as a list")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{owner}: When specifying the `vocabulary` argument, in TF-IDF "
                             "output mode, the `idf_weights` argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ---- token conversion (StringLookup: str; IntegerLookup: int) ------------------------------
    def _tokens_of(self, values) -> np.ndarray:
        raise NotImplementedError

    def _oov_buckets(self, tokens) -> np.ndarray:
        raise NotImplementedError

    # ---- index layout --------------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices: special tokens plus the vocabulary."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        vocab = ([self.oov_token] * self._token_start_index()) + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    # ---- vocabulary ----------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary, idf_weights=None):
        owner = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{owner}: `idf_weights` should only be set if output_mode is "
                             f"`'tf_idf'`. Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        vocabulary = list(self._tokens_of(as_numpy(vocabulary)).reshape(-1))
        if not vocabulary:
            raise ValueError(f"{owner}: Cannot set an empty vocabulary. Received: "
                             f"vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = ([self.mask_token] * self._oov_start_index()
                   + [self.oov_token] * self.num_oov_indices)
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"{owner}: The passed vocabulary has at least one repeated term. "
                             f"Please uniquify your dataset. The repeated terms are: {repeated}")
        for kind, token in (("mask", self.mask_token),
                            ("OOV", self.oov_token if self.invert else None)):
            if token is not None and token in tokens:
                raise ValueError(
                    f"{owner}: Found reserved {kind} token at unexpected location in "
                    "`vocabulary`. Note that passed `vocabulary` does not need to include the "
                    "OOV and mask tokens. Either remove all mask and OOV tokens, or include "
                    "them only at the start of the vocabulary in precisely this order: "
                    f"{special}. Received: {kind} token {token!r}")
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(f"{owner}: Attempted to set a vocabulary larger than the maximum "
                             f"vocab size. Received vocabulary size is "
                             f"{token_start + len(tokens)}; `max_tokens` is {self.max_tokens}.")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(as_numpy(idf_weights), np.float32)
            if weights.ndim != 1 or len(weights) != len(vocabulary):
                raise ValueError(f"{owner}: `idf_weights` must be a 1-D array as long as the "
                                 f"vocabulary. len(idf_weights) is {weights.size}; "
                                 f"len(vocabulary) is {len(vocabulary)}")
            front = 0 if found_special else token_start
            self._set_idf(weights, front, np.float32(np.average(weights)))

    def _set_tokens(self, tokens):
        if (self._frozen_vocab_size is not None and self.output_mode != "int"
                and not self.pad_to_max_tokens
                and len(tokens) + self._token_start_index() != self._frozen_vocab_size):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "the vocabulary size cannot be changed after the layer is called. Old vocab "
                f"size is {self._frozen_vocab_size}, new vocab size is "
                f"{len(tokens) + self._token_start_index()}")
        self._tokens = [t.item() if isinstance(t, np.generic) else t for t in tokens]
        self._index = {t: i + self._token_start_index() for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf(self, weights, front, front_value):
        back = 0
        if self.pad_to_max_tokens and self.max_tokens is not None:
            back = self.max_tokens - front - len(weights)
        self.idf_weights = np.pad(weights, (front, back), constant_values=(front_value, 0))
        self.idf_weights = self.idf_weights.astype(np.float32)

    # ---- adapt ---------------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learns the vocabulary from ``data``: an array or list of tokens (each row of a
        rank-2 array is a document for tf_idf), or an iterable of such batches (``steps``
        batches at most)."""
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray, ember.Tensor)):
            if steps is not None:
                raise ValueError(f"{type(self).__name__}.adapt: `steps` is not supported with "
                                 "array or list inputs")
            values = as_numpy(data)
            self.update_state(values[:, None] if values.ndim == 1 else values)
        elif hasattr(data, "__iter__"):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            raise TypeError(f"{type(self).__name__}.adapt: data must be an array, a list or an "
                            f"iterable of batches. Received: {type(data).__name__}")
        self.finalize_state()

    def update_state(self, data):
        self.update_documents(self._documents(data))

    def update_documents(self, documents):
        """Counts the tokens of ``documents`` (lists of tokens) for ``finalize_state``."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        for document in documents:
            self._counts.update(document)
        if self.output_mode == "tf_idf":
            for document in documents:
                self._document_counts.update(set(document))
            self._num_documents += len(documents)

    def _documents(self, data):
        """The rows of ``data`` as lists of tokens (a rank-0 or rank-1 batch is one row)."""
        tokens = self._tokens_of(as_numpy(data))
        if tokens.ndim <= 1:
            tokens = tokens.reshape(1, -1)
        return [list(row.reshape(-1)) for row in tokens]

    def finalize_state(self):
        if self._has_input_vocabulary or not self._counts:
            return
        for special in (self.mask_token, self.oov_token):
            self._counts.pop(special, None)
        # Count descending, ties by token descending (Keras' lexsort((tokens, counts))[::-1]).
        tokens = sorted(self._counts, key=lambda t: (self._counts[t], t), reverse=True)
        if self.max_tokens:
            tokens = tokens[:self.max_tokens - self._token_start_index()]
        self._frozen_vocab_size = None
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            counts = np.array([self._document_counts[t] for t in tokens], np.float64)
            idf = np.log(1 + self._num_documents / (1 + counts)).astype(np.float32)
            self._set_idf(idf, self._token_start_index(), np.float32(np.mean(idf)))
        self.reset_state()

    def reset_state(self):
        self._counts.clear()
        self._document_counts.clear()
        self._num_documents = 0

    # ---- call ----------------------------------------------------------------------------------
    def call(self, inputs):
        tokens = self._tokens_of(as_numpy(inputs))
        if self.invert:
            return self._invert(tokens)
        self._check_vocabulary_known()
        indices, masked = self._lookup(tokens)
        if self.output_mode == "int":
            return ember.from_numpy(indices)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        encoded = encode_categorical(indices, mode, depth, skip=masked)
        if self.output_mode == "tf_idf":
            encoded = encoded * self.idf_weights[:depth]
        return ember.from_numpy(np.ascontiguousarray(encoded, np.float32))

    def encode_rows(self, rows):
        """Encodings (one_hot/multi_hot/count/tf_idf) of documents of any lengths, one vector
        each: what Keras computes on ragged token rows."""
        self._check_vocabulary_known()
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = np.zeros((len(rows), depth), np.float32)
        for i, row in enumerate(rows):
            indices, masked = self._lookup(np.array(row, dtype=object).reshape(-1))
            out[i] = encode_categorical(indices, mode, depth, skip=masked)
        if self.output_mode == "tf_idf":
            out *= self.idf_weights[:depth]
        return out

    def _check_vocabulary_known(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and not self._tokens:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and "
                               "`pad_to_max_tokens=False`, you must set the layer's vocabulary "
                               "before calling it. Either pass a `vocabulary` argument to the "
                               "layer, or call `adapt` with some sample data.")

    def lookup(self, tokens):
        """int64 indices of an array of tokens (the mask token at 0)."""
        return self._lookup(np.asarray(tokens, dtype=object))[0]

    def _lookup(self, tokens):
        """(int64 indices, mask-token positions) for an array of tokens."""
        flat = tokens.reshape(-1)
        indices = np.array([self._index.get(t, -1) for t in flat], np.int64)
        oov = indices == -1
        masked = np.zeros(flat.shape, bool)
        if self.mask_token is not None:
            masked = np.array([t == self.mask_token for t in flat], bool)
            oov &= ~masked
            indices[masked] = 0
        if oov.any():
            if self.num_oov_indices == 0:
                raise ValueError("When `num_oov_indices=0` all inputs should be in vocabulary, "
                                 f"found OOV values {flat[oov].tolist()}, consider setting "
                                 "`num_oov_indices=1`.")
            buckets = (np.zeros(int(oov.sum()), np.int64) if self.num_oov_indices == 1
                       else self._oov_buckets(flat[oov]))
            indices[oov] = buckets + self._oov_start_index()
        return indices.reshape(tokens.shape), masked.reshape(tokens.shape)

    def _invert(self, indices):
        indices = np.asarray(indices)
        vocab = self.get_vocabulary()
        start = self._token_start_index()
        flat = [vocab[i] if start <= i < len(vocab) else self.oov_token
                for i in indices.reshape(-1).tolist()]
        if self.mask_token is not None:
            flat = [self.mask_token if i == 0 else t
                    for i, t in zip(indices.reshape(-1).tolist(), flat)]
        return self._inverted_output(flat, indices.shape)

    def _inverted_output(self, tokens, shape):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def get_config(self):
        idf = self.input_idf_weights
        vocabulary = self.input_vocabulary
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "idf_weights": None if idf is None else np.asarray(as_numpy(idf)).tolist(),
                "vocabulary": None if vocabulary is None else
                np.asarray(as_numpy(vocabulary)).tolist(),
                "vocabulary_size": self._frozen_vocab_size}
