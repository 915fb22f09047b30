"""fit/evaluate's ``sample_weight`` and ``class_weight`` as float32 arrays of per-sample
weights (Keras 3 rules): class weights are looked up by each target's class (its argmax for
one-hot targets), 1.0 for classes the dict omits; both at once, or class weights for a model
with several outputs, are refused as Keras refuses them. For several outputs, one array
weighs every output, or a list/dict in the structure of ``y`` gives one array per output."""
from __future__ import annotations

import numpy as np

from .compile_utils import is_nested


def per_sample_weights(method, y, n, sample_weight=None, class_weight=None):
    """The (n, ...) float32 weights, or None when neither argument is given."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if class_weight is not None:
        if is_nested(y):
            raise ValueError("`class_weight` is only supported for Models with a single "
                             "output.")
        if not isinstance(class_weight, dict):
            raise ValueError(f"{method}: `class_weight` must be a dict mapping class indices "
                             f"to weights. Received: class_weight={class_weight!r}")
        return _class_weights(np.asarray(y), class_weight)
    if sample_weight is None:
        return None
    if is_nested(sample_weight) and not is_nested(y) and len(sample_weight) == 1:
        # (Keras: for one output, a list of one array is that array)
        sample_weight = next(iter(sample_weight.values() if isinstance(sample_weight, dict)
                                  else sample_weight))
    if is_nested(sample_weight):
        if not _same_structure(y, sample_weight):
            raise ValueError("You should provide one `sample_weight` array per output in `y`. "
                             f"The two structures did not match:\n- y: {_structure(y)}\n"
                             f"- sample_weight: {_structure(sample_weight)}")
        if isinstance(sample_weight, dict):
            return {key: _one_array(method, w, n) for key, w in sample_weight.items()}
        return type(sample_weight)(_one_array(method, w, n) for w in sample_weight)
    return _one_array(method, sample_weight, n)


def _same_structure(y, sample_weight) -> bool:
    if isinstance(y, dict) or isinstance(sample_weight, dict):
        return (isinstance(y, dict) and isinstance(sample_weight, dict)
                and set(y) == set(sample_weight))
    return is_nested(y) and len(y) == len(sample_weight)


def _structure(value):
    if isinstance(value, dict):
        return {key: "*" for key in value}
    return ["*"] * len(value) if is_nested(value) else "*"


def _one_array(method, sample_weight, n):
    if is_nested(sample_weight):
        raise NotImplementedError(f"{method}: nested structures of sample weights are not "
                                  "supported by ember (use one list or dict of arrays)")
    weights = np.asarray(sample_weight, dtype=np.float32)
    if weights.ndim == 0 or len(weights) != n:
        raise ValueError(f"{method}: sample_weight must have one entry per sample: x has {n} "
                         f"samples, sample_weight has shape {weights.shape}")
    return np.ascontiguousarray(weights)


def _class_weights(y, class_weight):
    labels = y
    if labels.ndim > 1:
        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64).reshape(len(labels), -1)[:, 0]
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)
