"""Channel-wise ("feature") dropout and alpha dropout: F.dropout1d/2d/3d, F.alpha_dropout and
F.feature_alpha_dropout with PyTorch 2.13's semantics, including what it does (and warns about)
for inputs of unexpected rank; channels_last for the Keras face.

Feature dropout draws one Bernoulli per (sample, channel) of (N, C, *) input and broadcasts it
over the positions; alpha dropout keeps the mean and variance of SELU activations by sending
dropped values to SELU's negative saturation and rescaling.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _core
from ..ops.activation import Dropout
from ..random import _resolve
from ..tensor import Tensor

_SELU_ALPHA_SCALE = 1.7580993408473766  # SELU's -alpha * scale: where dropped values go


def check_dropout_p(op, p) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(op, arr, p, feature, channels_last):
    """Bernoulli(1 - p) draws: one per element, or one per (sample, channel) when feature."""
    if not feature:
        shape = arr.shape
    else:
        if arr.ndim < 2:
            raise _core.ShapeError(f"{op}: Feature dropout requires at least 2 dimensions in "
                                   f"the input, got shape {arr.shape}")
        shape = [1] * arr.ndim
        shape[0] = arr.shape[0]
        c_axis = arr.ndim - 1 if channels_last else 1
        shape[c_axis] = arr.shape[c_axis]
    return _resolve(None).random(shape, dtype=np.float32) >= p


def _finish(op, input, out, inplace):
    if not inplace:
        return out
    from ..tensor_methods import assign_inplace
    return assign_inplace(input, out, op + "_")


def _feature_dropout(op, input, p, training, inplace, channels_last, batched=True):
    """Zeroes whole channels of (N, C, *) input (or (N, *, C) with channels_last) and scales the
    rest by 1/(1-p); batched=False: input is one sample without its batch dimension."""
    if not training or p == 0:
        return input
    x = input if batched else input.unsqueeze(0)
    arr = x._array
    keep = _keep_mask(op, arr, p, True, channels_last)
    mask = keep.astype(arr.dtype) * arr.dtype.type(0.0 if p == 1 else 1.0 / (1.0 - p))
    out = Dropout.apply(x, mask)
    return _finish(op, input, out if batched else out.squeeze(0), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False, *, channels_last=False):
    """Zeroes whole channels of (N, C, L) or unbatched (C, L) input with probability p (scaling
    by 1/(1-p))."""
    op = "dropout1d"
    check_dropout_p(op, p)
    if input.ndim not in (2, 3):
        raise _core.ShapeError(f"{op}: Expected 2D or 3D input, but received a {input.ndim}D "
                               f"input (shape {tuple(input.shape)}). Note that dropout1d exists "
                               "to provide channel-wise dropout on inputs with 1 spatial "
                               "dimension, a channel dimension, and an optional batch dimension "
                               "(i.e. 2D or 3D inputs).")
    return _feature_dropout(op, input, p, training, inplace, channels_last, input.ndim == 3)


def _warn_rank(op, ndim, expected) -> None:
    warnings.warn(f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result "
                  "in an error in a future release. To retain the behavior and silence this "
                  f"warning, please use dropout instead. Note that {op} exists to provide "
                  f"channel-wise dropout on inputs with {expected - 2} spatial dimensions, a "
                  "channel dimension, and an optional batch dimension (i.e. "
                  f"{expected - 1}D or {expected}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False, *, channels_last=False):
    """Zeroes whole channels of (N, C, H, W) input with probability p (scaling by 1/(1-p)).
    Other ranks behave as in PyTorch 2.13, with its warnings: 3-D input is taken as (N, C, L)
    (not as unbatched (C, H, W)), any other rank as (N, C, *)."""
    op = "dropout2d"
    check_dropout_p(op, p)
    if input.ndim not in (3, 4):
        _warn_rank(op, input.ndim, 4)
    if input.ndim == 3:
        warnings.warn(f"{op}: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future "
                      "release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(op, input, p, training, inplace, channels_last)


def dropout3d(input, p=0.5, training=True, inplace=False, *, channels_last=False):
    """Zeroes whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input with probability
    p (scaling by 1/(1-p)). Other ranks warn, as in PyTorch 2.13, and are taken as unbatched."""
    op = "dropout3d"
    check_dropout_p(op, p)
    if input.ndim not in (4, 5):
        _warn_rank(op, input.ndim, 5)
    return _feature_dropout(op, input, p, training, inplace, channels_last, input.ndim == 5)


def _alpha_dropout(op, input, p, training, inplace, feature):
    check_dropout_p(op, p)
    if not training or p == 0 or input.numel() == 0:
        return input
    arr = input._array
    dtype = arr.dtype
    if p == 1:
        return _finish(op, input, Dropout.apply(input, np.zeros(arr.shape, dtype)), inplace)
    keep = _keep_mask(op, arr, p, feature, False).astype(dtype)
    a = 1.0 / math.sqrt((_SELU_ALPHA_SCALE ** 2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_SELU_ALPHA_SCALE * a) + _SELU_ALPHA_SCALE * a * p
    out = Dropout.apply(input, (keep * a).astype(dtype))
    return _finish(op, input, out + Tensor._from_op(shift.astype(dtype), None), inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of each element (for SELU networks): dropped values become SELU's
    saturation value, then all are scaled and shifted to keep zero mean and unit variance."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, *) input."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)
