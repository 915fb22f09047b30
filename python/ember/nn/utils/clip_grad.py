"""Gradient clipping by global norm and by value, in place on each parameter's ``.grad``.

Follows torch.nn.utils.clip_grad: the total norm is the norm of the per-tensor norms, the
scale factor max_norm / (total_norm + 1e-6) is clamped to 1.0 (gradients are only ever scaled
down), and a non-finite total norm is an error only when error_if_nonfinite=True.
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np

from ...tensor import Tensor


def _tensor_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(values: np.ndarray, norm_type: float) -> np.float64:
    """torch.linalg.vector_norm of a flattened array, computed in float64."""
    a = np.abs(values.ravel()).astype(np.float64, copy=False)
    if norm_type == math.inf:
        return a.max() if a.size else np.float64(0.0)
    if norm_type == -math.inf:
        return a.min() if a.size else np.float64(math.inf)
    if norm_type == 0:
        return np.float64(np.count_nonzero(a))
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        # Not np.dot: a multi-threaded BLAS call wakes OpenBLAS threads, which then spin
        # against ember's OpenMP threads (a 2-thread word language model ran 3-20x slower).
        return np.sqrt(np.einsum("i,i->", a, a))
    return np.sum(a ** norm_type) ** (1.0 / norm_type)


def _norm_dtype(arrays) -> np.dtype:
    # The dtype torch.stack of the per-tensor norms would have: the promoted float type.
    dtypes = [a.dtype if a.dtype.kind == "f" else np.dtype(np.float32) for a in arrays]
    return np.result_type(*dtypes)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The norm of all `tensors` viewed as one vector (a 0-d tensor)."""
    arrays = [t._array for t in _tensor_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor._from_op(np.array(0.0, dtype=np.float32), None)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN propagate, as in torch
        norms = np.array([_vector_norm(a, norm_type) for a in arrays], dtype=np.float64)
        total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this "
                           "error and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor._from_op(np.array(total, dtype=_norm_dtype(arrays)), None)


def _scale_(grad: Tensor, factor) -> None:
    arr = grad._array
    if arr.flags.writeable:
        np.multiply(arr, factor, out=arr, casting="unsafe")
    else:
        grad._array = (arr * factor).astype(arr.dtype)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scales every .grad by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = [p.grad for p in _tensor_list(parameters) if p.grad is not None]
    if not grads:
        return
    norm = total_norm._array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    dtype = norm.dtype if norm.dtype.kind == "f" else np.dtype(np.float32)
    norm = norm.astype(dtype)
    # Computed in the norm's dtype, as PyTorch's tensor arithmetic does; NaN propagates.
    with np.errstate(over="ignore", invalid="ignore"):
        coef = np.minimum(dtype.type(float(max_norm)) / (norm + dtype.type(1e-6)),
                          dtype.type(1.0))
        for g in grads:
            _scale_(g, coef.astype(g._array.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescales the gradients in place so their global `norm_type` norm is at most max_norm;
    returns the total norm before clipping (a 0-d tensor)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of clip_grad_norm_ (as in PyTorch)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every .grad in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _tensor_list(parameters):
        g = p.grad
        if g is None:
            continue
        arr = g._array
        if arr.flags.writeable:
            np.clip(arr, -clip_value, clip_value, out=arr)
        else:
            g._array = np.clip(arr, -clip_value, clip_value)
