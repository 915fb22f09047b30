"""keras.KerasTensor: a symbolic tensor (shape with None for unknown sizes, dtype, name) that
keras.Input returns and layer calls on symbolic tensors produce.

``_keras_history`` is (layer, node_index, tensor_index): the layer call (Node) that made it.
Arithmetic on KerasTensors (Keras' keras.ops in a graph) is not supported: use merge layers.
"""
from __future__ import annotations

import numpy as np

_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "string")
# NumPy's text dtypes (str, bytes) are Keras' "string"
_TEXT_KINDS = "US"
_count = [0]


def standardize_dtype(dtype) -> str:
    """A dtype name as Keras spells it: "float32", "int32", ... (None is "float32")."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, np.dtype) and dtype.kind in _TEXT_KINDS or dtype in (str, bytes):
        return "string"
    name = str(getattr(dtype, "name", dtype))
    name = name.split(".")[-1]  # ember.int32, torch.int32, numpy's dtype('int32')
    if name not in _DTYPES:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {', '.join(_DTYPES)}")
    return name


def is_text(value) -> bool:
    """Whether ``value`` is a NumPy array of strings (ember Tensors hold no strings)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in _TEXT_KINDS


def reset_names() -> None:
    _count[0] = 0


def _auto_name() -> str:
    count = _count[0]
    _count[0] += 1
    return "keras_tensor" if count == 0 else f"keras_tensor_{count}"


class KerasTensor:
    """A symbolic tensor of a functional graph; holds no data."""

    def __init__(self, shape, dtype="float32", sparse=False, name=None):
        if sparse:
            raise NotImplementedError("KerasTensor: sparse tensors are not supported by ember")
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.sparse = False
        self.ragged = False
        self.name = name or _auto_name()
        self._keras_history = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
                f"ragged={self.ragged}, name={self.name}>")

    def _no_ops(self, *args):
        raise NotImplementedError(
            "ember: Python operators and keras.ops on KerasTensors (inside a functional graph) "
            "are not supported. Use layers: keras.layers.Add/Subtract/Multiply/Concatenate/... "
            "or a custom keras.layers.Layer.")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_ops
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __neg__ = _no_ops
    __getitem__ = _no_ops



def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)
