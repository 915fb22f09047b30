"""keras.layers.TextVectorization: strings to token indices or bag-of-words vectors, in NumPy
and Python (strings never enter ember tensors; outputs are ember tensors).

Each string is standardized (ASCII lower-casing and Keras' punctuation regex, as TensorFlow's
``strings.lower``/``regex_replace`` do), split (whitespace or characters), optionally turned
into n-grams (all 1-grams, then all 2-grams, ... joined by spaces) and looked up in a
StringLookup whose mask token is "" (index 0 pads "int" outputs)."""
from __future__ import annotations

import numbers
import re

import numpy as np

import ember
from .category_encoding import as_numpy
from .data_layer import NumpyDataLayer
from .string_lookup import StringLookup

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _check_choice(name, value, choices, allow_callable=True):
    if value is None or value in choices or (allow_callable and callable(value)):
        return
    raise ValueError(f"TextVectorization: Invalid value for argument {name}. Expected one of "
                     f"{choices}, None or a callable. Received: {name}={value!r}")


class TextVectorization(NumpyDataLayer):
    """Vectorizes a batch of strings (shape (batch,) or (batch, 1)): "int" gives token indices
    padded with 0 to ``output_sequence_length`` (or to the longest row); "multi_hot", "count"
    and "tf_idf" give one vector per string. Vectorize outside the model and fit on the
    resulting arrays: ember's fit takes numbers, not strings."""

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        if sparse or ragged:
            raise NotImplementedError("TextVectorization: sparse=True and ragged=True (sparse "
                                      "and ragged tensors) are not supported by ember")
        _check_choice("standardize", standardize, _STANDARDIZE)
        _check_choice("split", split, _SPLIT)
        if callable(split):
            raise NotImplementedError("TextVectorization: a callable split (it receives "
                                      "TensorFlow string tensors in Keras) is not supported by "
                                      "ember; use 'whitespace', 'character' or None")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
                or (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        if output_sequence_length is not None and (
                isinstance(output_sequence_length, bool)
                or not isinstance(output_sequence_length, numbers.Integral)
                or output_sequence_length < 0):
            raise ValueError("`output_sequence_length` must be either None or an integer when "
                             "`output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode == "one_hot" and split is not None:
            raise NotImplementedError("TextVectorization: output_mode='one_hot' with a split "
                                      "(one vector per token of ragged rows) is not supported "
                                      "by ember; use 'multi_hot' or split=None")
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        # (a range, not a tuple: ngrams=2**62 costs nothing beyond the longest document)
        self._ngrams = range(1, ngrams + 1) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self.built = True

    # ---- vocabulary ----------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from a list or array of strings, or from an iterable of such
        batches (``steps`` batches at most). ``batch_size`` only matters for datasets in
        Keras; an array is processed whole either way."""
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray)):
            self.update_state(data)
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            raise TypeError("TextVectorization.adapt: data must be a list or array of strings, "
                            f"or an iterable of batches. Received: {type(data).__name__}")
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer.update_documents(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # ---- text to tokens ------------------------------------------------------------------------
    def _strings(self, inputs):
        values = as_numpy(inputs)
        if values.dtype.kind == "S":
            values = np.char.decode(values, self._encoding)
        elif values.dtype.kind == "O":
            values = np.vectorize(lambda v: v.decode(self._encoding) if isinstance(v, bytes)
                                  else v, otypes=[object])(values) if values.size else values
        if values.size and not all(isinstance(v, str) for v in values.reshape(-1).tolist()):
            raise ValueError(f'TextVectorization "{self.name}": inputs must be strings. '
                             f"Received an array of dtype {values.dtype}")
        return values.astype(object)

    def _standardized(self, values):
        if callable(self._standardize):
            return np.asarray(self._standardize(values.astype(str)), dtype=object)
        out = values.reshape(-1).tolist()
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            out = [s.translate(_ASCII_LOWER) for s in out]
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            out = [_PUNCTUATION.sub("", s) for s in out]
        return np.array(out, dtype=object).reshape(values.shape)

    def _preprocess(self, inputs):
        """Documents as lists of tokens (split), or an array of whole strings (split=None)."""
        values = self._standardized(self._strings(inputs))
        if self._split is None:
            documents = [[s] for s in values.reshape(-1).tolist()] if values.ndim <= 1 \
                else [list(row.reshape(-1)) for row in values]
        else:
            if values.ndim > 1:
                if values.shape[-1] != 1:
                    raise ValueError("When using `TextVectorization` to tokenize strings, the "
                                     "input rank must be 1 or the last shape dimension must be "
                                     f"1. Received: inputs.shape={values.shape} with "
                                     f"rank={values.ndim}")
                values = values[..., 0]
            strings = values.reshape(-1).tolist()
            if self._split == "whitespace":
                documents = [[t for t in _WHITESPACE.split(s) if t] for s in strings]
            else:
                documents = [list(s) for s in strings]
        if self._ngrams is not None:
            documents = [self._ngrams_of(doc) for doc in documents]
        return documents

    def _ngrams_of(self, tokens):
        sizes = self._ngrams[:len(tokens)] if isinstance(self._ngrams, range) else self._ngrams
        return [" ".join(tokens[i:i + n]) for n in sizes
                for i in range(len(tokens) - n + 1)]

    # ---- call ----------------------------------------------------------------------------------
    def call(self, inputs):
        documents = self._preprocess(inputs)
        if self._output_mode != "int":
            return ember.from_numpy(self._lookup_layer.encode_rows(documents))
        rows = [self._lookup_layer.lookup(doc) for doc in documents]
        length = self._output_sequence_length
        if length is None:
            length = max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), np.int64)
        for i, row in enumerate(rows):
            row = row[:length]
            out[i, :len(row)] = row
        if self._split is None and np.ndim(as_numpy(inputs)) == 1 \
                and self._output_sequence_length is None:
            out = out[:, 0]  # one token per string: Keras keeps the input's shape
        return ember.from_numpy(out)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        depth = (self._lookup_layer.max_tokens if self._lookup_layer.pad_to_max_tokens
                 else self._lookup_layer.vocabulary_size())
        return (input_shape[0], depth)

    def get_config(self):
        lookup = self._lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
                "ragged": False, "vocabulary": lookup.get_config()["vocabulary"],
                "idf_weights": lookup.get_config()["idf_weights"],
                "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
