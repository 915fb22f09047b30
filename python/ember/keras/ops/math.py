"""keras.ops.math: logsumexp, top_k, in_top_k, segment reductions, erf, rsqrt."""
from __future__ import annotations

import numpy as np

import ember
from .core import as_float, axes_argument, cast, convert_to_numpy, convert_to_tensor


def logsumexp(x, axis=None, keepdims=False):
    x = as_float(x)
    dims = axes_argument(axis, x.dim(), "logsumexp")
    if dims is None:
        out = ember.logsumexp(x.reshape(-1), 0)
        return out.reshape((1,) * x.dim()) if keepdims else out
    return ember.logsumexp(x, dims, keepdim=keepdims)


def top_k(x, k, sorted=True):  # noqa: A002  (Keras' argument name)
    """(values, int32 indices) of the k largest entries along the last axis. (Keras' indices
    are int32 on its TensorFlow and JAX backends, int64 on torch; ember follows the first,
    like its argmax and argsort.)"""
    x = convert_to_tensor(x)
    if not 0 <= int(k) <= x.shape[-1]:
        raise ValueError(f"keras.ops.top_k: k={k} is out of range for the last axis of a "
                         f"tensor of shape {tuple(x.shape)}")
    values, indices = ember.topk(x, int(k), dim=-1, largest=True, sorted=True)
    return values, cast(indices, "int32")


def in_top_k(targets, predictions, k):
    """Whether each target class is among the k largest predictions (ties count as in)."""
    predictions = convert_to_tensor(predictions)
    scores = convert_to_numpy(predictions)
    labels = convert_to_numpy(targets).astype(np.int64)
    if scores.ndim != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(f"in_top_k(): expected predictions of shape (batch, classes) and "
                         f"targets of shape (batch,), got predictions {tuple(scores.shape)} and "
                         f"targets {tuple(labels.shape)}")
    if labels.size and not (0 <= labels.min() and labels.max() < scores.shape[1]):
        raise IndexError(f"in_top_k(): targets must be class indices in [0, {scores.shape[1]}), "
                         f"got values from {labels.min()} to {labels.max()}")
    target_scores = np.take_along_axis(scores, labels[:, None], axis=1)
    rank = (scores > target_scores).sum(axis=1)
    return ember.from_numpy(rank < int(k))


def _segments(data, segment_ids, num_segments, owner):
    data = convert_to_tensor(data)
    ids = convert_to_numpy(segment_ids).astype(np.int64).reshape(-1)
    if ids.shape[0] != data.shape[0]:
        raise ValueError(f"keras.ops.{owner}: segment_ids of length {ids.shape[0]} do not "
                         f"match the first axis of data of shape {tuple(data.shape)}")
    count = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    # (count, n) membership; ids outside [0, count) belong to no segment, as in Keras.
    member = ids[None, :] == np.arange(count)[:, None]
    return data, member, count


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    data, member, count = _segments(data, segment_ids, num_segments, "segment_sum")
    flat = data.reshape(data.shape[0], -1) if data.dim() != 1 else data.reshape(-1, 1)
    weights = ember.from_numpy(member.astype(flat.dtype.numpy))
    return ember.matmul(weights, flat).reshape((count,) + tuple(data.shape[1:]))


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Empty segments hold -inf (the lowest integer for integer data), as in Keras on torch."""
    data, member, count = _segments(data, segment_ids, num_segments, "segment_max")
    lowest = -np.inf if data.dtype.is_floating_point else np.iinfo(data.dtype.numpy).min
    shape = (count, data.shape[0]) + (1,) * (data.dim() - 1)
    mask = ember.from_numpy(member.reshape(shape))
    spread = ember.where(mask, data.unsqueeze(0), ember.full_like(data.unsqueeze(0), lowest))
    return ember.amax(spread, dim=1)


def erf(x):
    return ember.erf(as_float(x))


def rsqrt(x):
    return ember.rsqrt(as_float(x))


__all__ = ["erf", "in_top_k", "logsumexp", "rsqrt", "segment_max", "segment_sum", "top_k"]
