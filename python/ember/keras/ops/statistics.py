"""keras.ops quantiles and counts: quantile, median, ptp, bincount, digitize, searchsorted
(NumPy's semantics; quantile and median differentiable through a sort)."""
from __future__ import annotations

import numpy as np

import ember
from .core import as_float, axes_argument, cast, convert_to_numpy, convert_to_tensor

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _last_axis_view(x, axis, owner):
    """(x with the reduced axes flattened into the last one, the kept shape)."""
    dims = axes_argument(axis, x.dim(), owner)
    if dims is None:
        dims = tuple(range(x.dim()))
    kept = [d for d in range(x.dim()) if d not in dims]
    moved = x.permute(*(kept + list(dims))) if x.dim() else x.reshape(1)
    kept_shape = tuple(x.shape[d] for d in kept)
    return moved.reshape(kept_shape + (-1,)), dims


def quantile(x, q, axis=None, method="linear", keepdims=False):
    if method not in _METHODS:
        raise ValueError(f"keras.ops.quantile: method must be one of {_METHODS}. Received: "
                         f"method={method!r}")
    x = as_float(x)
    q_array = np.asarray(convert_to_numpy(q), dtype=np.float64)
    if np.any((q_array < 0) | (q_array > 1)):
        raise ValueError(f"keras.ops.quantile: q must be in [0, 1]. Received: q={q!r}")
    flat, dims = _last_axis_view(x, axis, "quantile")
    ordered = ember.sort(flat, dim=-1)[0]
    n = ordered.shape[-1]
    position = q_array.reshape(-1) * (n - 1)
    low, high = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
    frac = position - low
    if method == "lower":
        high, frac = low, frac * 0
    elif method == "higher":
        low, frac = high, frac * 0
    elif method == "midpoint":
        frac = np.where(high > low, 0.5, 0.0)
    elif method == "nearest":  # NumPy rounds half to even
        low = high = np.round(position).astype(np.int64)
        frac = frac * 0
    lower = ember.index_select(ordered, ordered.dim() - 1, ember.from_numpy(low))
    upper = ember.index_select(ordered, ordered.dim() - 1, ember.from_numpy(high))
    weight = ember.from_numpy(frac.astype(ordered.dtype.numpy))
    values = lower + (upper - lower) * weight  # kept shape + (len(q),)
    values = values.permute(values.dim() - 1, *range(values.dim() - 1))  # quantiles first
    rest = tuple(values.shape[1:])
    if keepdims:
        rest = tuple(1 if d in dims else size for d, size in enumerate(x.shape))
    return values.reshape(q_array.shape + rest)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def ptp(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    dims = axes_argument(axis, x.dim(), "ptp")
    return ember.amax(x, dim=dims, keepdim=keepdims) - ember.amin(x, dim=dims, keepdim=keepdims)


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in ``x`` (1-D, or each row of 2-D ``x``)."""
    if sparse:
        raise NotImplementedError("keras.ops.bincount: sparse=True is not supported by ember")
    values = convert_to_numpy(x).astype(np.int64)
    if values.ndim not in (1, 2) or (values.size and values.min() < 0):
        raise ValueError("keras.ops.bincount: x must be 1-D or 2-D non-negative integers. "
                         f"Received: x.shape={values.shape}")
    length = max(int(minlength), int(values.max()) + 1 if values.size else 0)
    rows = values.reshape(-1, values.shape[-1]) if values.ndim == 2 else values[None]
    member = rows[..., None] == np.arange(length)  # (rows, n, length)
    if weights is None:
        counts = ember.from_numpy(member.sum(axis=1).astype(np.int32))
    else:
        w = as_float(weights).reshape(rows.shape)
        counts = ember.einsum("rn,rnl->rl", w, ember.from_numpy(member.astype(w.dtype.numpy)))
    return counts.reshape(-1) if values.ndim == 1 else counts


def digitize(x, bins):
    """For each value, the index of the bin it falls in (NumPy's right=False), int32."""
    index = np.digitize(convert_to_numpy(x), convert_to_numpy(bins))
    return cast(ember.from_numpy(np.ascontiguousarray(index)), "int32")


def searchsorted(sorted_sequence, values, side="left"):
    if side not in ("left", "right"):
        raise ValueError(f"keras.ops.searchsorted: side must be 'left' or 'right'. Received: "
                         f"side={side!r}")
    sequence = convert_to_numpy(sorted_sequence)
    if sequence.ndim != 1:
        raise ValueError("keras.ops.searchsorted: sorted_sequence must be 1-D. Received: "
                         f"shape {sequence.shape}")
    index = np.searchsorted(sequence, convert_to_numpy(values), side=side)
    return cast(ember.from_numpy(np.ascontiguousarray(index)), "int32")


__all__ = ["bincount", "digitize", "median", "ptp", "quantile", "searchsorted"]
