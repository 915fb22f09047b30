"""Tensor.new_* (new tensors that inherit this tensor's dtype) and the cast methods half, byte,
char and short.

float16 ("half") tensors are stored as NumPy float16: NumPy-computed ops (elementwise math,
reductions, indexing, casts) work on them, while ember's C++ kernels (matmul, linear, conv,
activations, softmax, losses) accept float32 and float64 only and raise a TypeError naming the
op for float16 input; call .float() first."""
import warnings

import numpy as np

from . import creation
from .tensor import Tensor


def _dtype(self, dtype):
    return self._array.dtype if dtype is None else dtype


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.zeros(*size, dtype=_dtype(self, dtype), device=device,
                          requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.ones(*size, dtype=_dtype(self, dtype), device=device,
                         requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.empty(*size, dtype=_dtype(self, dtype), device=device,
                          requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    return creation.full(size, fill_value, dtype=_dtype(self, dtype), device=device,
                         requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """A copy of data with this tensor's dtype (not one inferred from data), as in PyTorch."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return creation.tensor(data, dtype=_dtype(self, dtype), device=device,
                           requires_grad=requires_grad)


def half(self):
    return self.to(np.float16)


def byte(self):
    return self.to(np.uint8)


def char(self):
    return self.to(np.int8)


def short(self):
    return self.to(np.int16)


METHODS = {f.__name__: f for f in (new_zeros, new_ones, new_empty, new_full, new_tensor, half,
                                   byte, char, short)}
