"""The less common Keras 3 activations (``keras.activations.relu6``, ``mish``, ``sparsemax``
...), each a composition of differentiable ember ops with Keras' formula and defaults.
keras/activations.py lists them by name."""
from __future__ import annotations

import numbers

import numpy as np

import ember
from ..nn import functional as F


def relu6(x):
    return F.relu6(x)


def softsign(x):
    return x / (x.abs() + 1.0)


def soft_shrink(x, threshold=0.5):
    return ember.where(x > threshold, x - threshold,
                       ember.where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x, threshold=0.5):
    return ember.where(x.abs() > threshold, x, 0.0)


def tanh_shrink(x):
    return x - F.tanh(x)


def hard_tanh(x):
    return F.hardtanh(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    return ember.where(x > threshold, x, float(default_value))


def sparse_plus(x):
    """0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 between."""
    return ember.where(x <= -1.0, 0.0, ember.where(x >= 1.0, x, (x + 1.0) * (x + 1.0) * 0.25))


def sparse_sigmoid(x):
    """0 for x <= -1, 1 for x >= 1, (x + 1) / 2 between."""
    return ember.where(x <= -1.0, 0.0, ember.where(x >= 1.0, 1.0, (x + 1.0) * 0.5))


def squareplus(x, b=4):
    return (x + ember.sqrt(x * x + float(b))) * 0.5


def celu(x, alpha=1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return F.relu(x) - F.relu(-((x / alpha).exp() - 1.0) * alpha)


def glu(x, axis=-1):
    """a * sigmoid(b), a and b the two halves of x along ``axis``."""
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"glu expects an even size along axis {axis}. Received: "
                         f"x.shape={tuple(x.shape)}")
    a, b = ember.split(x, size // 2, dim=axis)
    return a * F.sigmoid(b)


def exponential(x):
    return x.exp()


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3."""
    return F.relu6(x + 3.0) * (1.0 / 6.0)


def hard_silu(x):
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def log_sigmoid(x):
    return -F.softplus(-x)


def mish(x):
    return x * F.tanh(F.softplus(x))


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the simplex along ``axis`` (Martins et al., 2016):
    relu(x - tau), tau chosen so the result sums to 1.

    Keras 3.15's backends take tau from the sum of *all* cumulative sums over the support, so
    with a support of two or more elements their result does not sum to 1 (for [1, 0.9, 0.8]
    it is all zeros); ember computes the paper's tau = (cumsum at k - 1) / k.
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"sparsemax: axis must be an integer. Received: axis={axis!r}")
    x = x.transpose(axis, -1) if axis not in (-1, x.ndim - 1) else x
    n = x.shape[-1]
    ranks = ember.from_numpy(np.arange(1, n + 1, dtype=x.dtype.numpy))
    z, _ = ember.sort(x, dim=-1, descending=True)
    cumulative = ember.cumsum(z, dim=-1)
    support = (z * ranks + 1.0) > cumulative
    k = support.long().sum(dim=-1, keepdim=True)  # size of the support, at least 1
    tau = (ember.gather(cumulative, -1, k - 1) - 1.0) / k.to(x.dtype)
    out = F.relu(x - tau)
    return out.transpose(axis, -1) if axis not in (-1, out.ndim - 1) else out
