"""searchsorted and bucketize: where values would be inserted into sorted sequences (int64
positions, int32 with out_int32=True), never part of a graph."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor


def _array(x):
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Positions in sorted_sequence (1-D, or rows along its last dim that match input's leading
    dims) before which each value of input keeps the order; right/side='right' after equals."""
    seq, values = _array(sorted_sequence), _array(input)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right', got "
                               f"{side!r}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter), -1)
    where = "right" if right else "left"
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=where)
    elif seq.ndim == 0 or seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    else:
        rows, vals = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(r, v, side=where) for r, v in zip(rows, vals)])
        out = out.reshape(values.shape)
    return Tensor._from_op(np.asarray(out, np.int32 if out_int32 else np.int64), None)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (right=False) or
    boundaries[i-1] <= x < boundaries[i] (right=True)."""
    if _array(boundaries).ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got shape "
                           f"{tuple(_array(boundaries).shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
