"""Data handling for fit / evaluate / predict: x and y as one array, a list/tuple of arrays or
a dict of arrays (several inputs or outputs); checks, batching and validation splits.

Arrays stay NumPy until a batch is cut; inputs become float32 (as Keras' floatx), targets keep
integer labels as int64 and turn everything else into float32. Arrays of strings (for
``keras.Input(dtype="string")`` and the text layers) stay NumPy throughout.
"""
from __future__ import annotations

import math
import numbers
import sys

import numpy as np

import ember
from .compile_utils import flatten
from .engine.keras_tensor import is_text


def resolve_verbose(verbose):
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def check_batch_size(batch_size, default=32):
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer. Received: "
                         f"batch_size={batch_size!r}")
    return int(batch_size)


def batches(n: int, batch_size: int, order=None):
    """Index objects (slices, or index arrays of a shuffled order) of successive batches."""
    for start in range(0, n, batch_size):
        yield slice(start, start + batch_size) if order is None else order[start:start + batch_size]


# ---- conversion ------------------------------------------------------------------------------
def _is_array_list(data) -> bool:
    """A list/tuple of arrays (several inputs or outputs), not a nested list of numbers (which
    is one array, as before)."""
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(
        isinstance(item, (np.ndarray, ember.Tensor)) or _is_array_list(item)
        or isinstance(item, dict) for item in data)


def as_array(data, what: str) -> np.ndarray:
    """One NumPy array of numbers (a Tensor is detached) or of strings (for string inputs:
    ember Tensors hold no strings, the text layers take NumPy's)."""
    if isinstance(data, ember.Tensor):
        return data.detach().numpy()
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        text = _text_array(arr)
        if text is None:
            raise ValueError(f"{what} must be a NumPy array of numbers or strings (or an "
                             f"ember Tensor). Received an object of type "
                             f"{type(data).__name__} with dtype {arr.dtype}")
        return text
    return arr


def _text_array(arr: np.ndarray):
    """``arr`` as a str/bytes array if it holds only strings, else None."""
    if is_text(arr):
        return arr
    if arr.dtype == object and arr.size and all(isinstance(v, str) for v in arr.flat):
        return arr.astype(np.str_)
    if arr.dtype == object and arr.size and all(isinstance(v, bytes) for v in arr.flat):
        return arr.astype(np.bytes_)
    return None


def as_text(data, what: str) -> np.ndarray:
    """A NumPy array of strings for an input declared with dtype="string"."""
    text = None if isinstance(data, ember.Tensor) else _text_array(np.asarray(data))
    if text is None:
        raise ValueError(f"{what} expects strings. Received an object of type "
                         f"{type(data).__name__} with dtype {getattr(data, 'dtype', None)}")
    return text


def as_arrays(data, what: str):
    """``data`` as a NumPy array, or a list/tuple/dict of them (one level: several inputs or
    outputs; deeper nesting raises NotImplementedError)."""
    if isinstance(data, dict):
        items = {key: _leaf(value, f"{what}[{key!r}]") for key, value in data.items()}
        if not items:
            raise ValueError(f"{what} is an empty dict")
        return items
    if _is_array_list(data):
        return type(data)(_leaf(value, f"{what}[{i}]") for i, value in enumerate(data))
    return as_array(data, what)


def _leaf(value, what):
    if _is_array_list(value) or isinstance(value, dict):
        raise NotImplementedError(f"{what}: nested structures of arrays are not supported by "
                                  "ember's Keras face (use one list or dict of arrays)")
    return as_array(value, what)


def map_data(fn, data):
    if isinstance(data, dict):
        return {key: fn(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(fn(value) for value in data)
    return fn(data)


def as_input(a: np.ndarray) -> np.ndarray:
    """A contiguous float32 input (the model computes in float32); strings stay strings."""
    return a if is_text(a) else np.ascontiguousarray(a, dtype=np.float32)


def as_inputs(x):
    return map_data(as_input, x)


def as_targets(y):
    """Targets: integer (and integral) labels as int64, others float32."""
    def convert(a):
        return np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float32)
    return map_data(convert, y)


def to_tensors(x):
    """The model's input values: Tensors, except strings (NumPy arrays)."""
    return map_data(lambda a: a if is_text(a) else ember.from_numpy(a), x)


def slice_data(data, idx):
    if type(data) is np.ndarray:  # (the common case first)
        return data[idx]
    if data is None:  # no targets: a model trained by add_loss alone
        return None
    return map_data(lambda a: a[idx], data)


# ---- checks ----------------------------------------------------------------------------------
def num_samples(method: str, x, y=None) -> int:
    """The common number of samples of every array in x (and y), else a ValueError listing the
    sizes as Keras does."""
    labelled = [("x", x)] + ([] if y is None else [("y", y)])
    for label, data in labelled:
        for arr in flatten(data):
            if arr.ndim == 0:
                raise ValueError(f"{method}: every array in {label} needs a batch axis. "
                                 f"Received an array of shape () in {label}")
    sizes = {arr.shape[0] for _, data in labelled for arr in flatten(data)}
    if len(sizes) > 1:
        detail = "\n".join(f"'{label}' sizes: " + ", ".join(
            str(arr.shape[0]) for arr in flatten(data)) for label, data in labelled)
        shapes = "\n".join(f"'{label}' shapes: " + ", ".join(
            str(arr.shape) for arr in flatten(data)) for label, data in labelled)
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same "
                         f"number of samples.\n{detail}\n{shapes}")
    return sizes.pop()


def check_input_names(x, input_names, method: str):
    """A dict x must name the model's inputs (when the model declares ``input_names``)."""
    if not isinstance(x, dict) or not input_names:
        return
    unknown = [key for key in x if key not in input_names]
    missing = [name for name in input_names if name not in x]
    if missing:
        raise ValueError(f'{method}: Missing data for input "{missing[0]}". You passed a data '
                         f"dictionary with keys {list(x)}. Expected the following keys: "
                         f"{list(input_names)}")
    if unknown:
        raise ValueError(f"{method}: x has keys {unknown} that are not inputs of the model. "
                         f"Expected the following keys: {list(input_names)}")


# ---- validation data -------------------------------------------------------------------------
def unpack_validation_data(validation_data):
    """(x_val, y_val, sample_weight_val) from ``validation_data`` (a tuple or list of 2 or 3;
    the weights None for 2)."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val). Received: "
                         f"{type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}"
                            if isinstance(validation_data, (tuple, list)) else ""))
    return tuple(validation_data) + (None,) * (3 - len(validation_data))


def split_validation(x, y, n: int, validation_split):
    """Keras' validation_split: the last fraction of the data, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError("validation_split must be a float in [0, 1). Received: "
                         f"validation_split={validation_split!r}")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         "it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`. Either provide more data, or a "
                         "different value for the `validation_split` argument.")
    head, tail = slice(0, split_at), slice(split_at, n)
    return (slice_data(x, head), slice_data(y, head)), (slice_data(x, tail),
                                                         slice_data(y, tail))
