"""keras.ops.nn: activations, softmax, one-hot encodings, cross-entropies and moments, with
Keras' names, arguments and defaults (``gelu`` approximates by default here, unlike
``keras.activations.gelu``; ``leaky_relu`` slopes 0.2)."""
from __future__ import annotations

import numpy as np

import ember
from ...nn import functional as F
from .. import config
from .core import (as_float, axes_argument, convert_to_numpy, ember_dtype, float_unary,
                   normalize_axis)
from .math import logsumexp
from .normalization import (batch_normalization, dot_product_attention, layer_normalization,
                            rms_normalization)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


relu, relu6 = float_unary(F.relu), float_unary(F.relu6)
sigmoid, softplus = float_unary(F.sigmoid), float_unary(F.softplus)


def softsign(x):
    x = as_float(x)
    return x / (1.0 + ember.abs(x))


def silu(x):
    x = as_float(x)
    return x * F.sigmoid(x)


swish = silu


def log_sigmoid(x):
    return -F.softplus(-as_float(x))


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(as_float(x), negative_slope=negative_slope)


def hard_sigmoid(x):
    return F.relu6(as_float(x) + 3.0) / 6.0


def hard_silu(x):
    x = as_float(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def elu(x, alpha=1.0):
    return F.elu(as_float(x), alpha=alpha)


def selu(x):
    return F.elu(as_float(x), alpha=_SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha=1.0):
    x = as_float(x)
    return F.relu(x) - F.relu(-alpha * ember.expm1(x / alpha))


def glu(x, axis=-1):
    x = as_float(x)
    axis = normalize_axis(axis, x.dim(), "glu")
    if x.shape[axis] % 2:
        raise ValueError(f"keras.ops.glu: axis {axis} must have an even size. Received: "
                         f"x.shape={tuple(x.shape)}")
    a, b = ember.split(x, x.shape[axis] // 2, dim=axis)
    return a * F.sigmoid(b)


def hard_tanh(x):
    return ember.clamp(as_float(x), -1.0, 1.0)


def tanh_shrink(x):
    x = as_float(x)
    return x - ember.tanh(x)


def soft_shrink(x, threshold=0.5):
    x = as_float(x)
    return ember.where(x > threshold, x - threshold,
                       ember.where(x < -threshold, x + threshold, ember.zeros_like(x)))


def hard_shrink(x, threshold=0.5):
    x = as_float(x)
    return ember.where(ember.abs(x) > threshold, x, ember.zeros_like(x))


def threshold(x, threshold, default_value):
    x = as_float(x)
    return ember.where(x > threshold, x, ember.full_like(x, default_value))


def squareplus(x, b=4):
    x = as_float(x)
    return (x + ember.sqrt(x * x + b)) / 2.0


def sparse_plus(x):
    x = as_float(x)
    return ember.where(x <= -1.0, ember.zeros_like(x),
                       ember.where(x >= 1.0, x, (x + 1.0) * (x + 1.0) / 4.0))


def gelu(x, approximate=True):
    return F.gelu(as_float(x), approximate="tanh" if approximate else "none")


def softmax(x, axis=-1):
    x = as_float(x)
    if isinstance(axis, (list, tuple)) or axis is None:  # several axes normalized together
        return ember.exp(x - logsumexp(x, axis=axis, keepdims=True))
    return F.softmax(x, dim=normalize_axis(axis, x.dim(), "softmax"))


def log_softmax(x, axis=-1):
    x = as_float(x)
    if isinstance(axis, (list, tuple)) or axis is None:
        return x - logsumexp(x, axis=axis, keepdims=True)
    return F.log_softmax(x, dim=normalize_axis(axis, x.dim(), "log_softmax"))


# ---- encodings -----------------------------------------------------------------------------------
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Negative (and too large) indices give all-zero rows, as in Keras."""
    if sparse:
        raise NotImplementedError("keras.ops.one_hot: sparse=True is not supported by ember")
    indices = convert_to_numpy(x).astype(np.int64)
    encoded = indices[..., None] == np.arange(int(num_classes))
    out_rank = indices.ndim + 1
    axis = normalize_axis(axis, out_rank, "one_hot")
    encoded = np.moveaxis(encoded, -1, axis)
    target = ember_dtype("float32" if dtype is None else dtype)
    return ember.from_numpy(np.ascontiguousarray(encoded, dtype=target.numpy))


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"keras.ops.multi_hot: unexpected keyword arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("keras.ops.multi_hot: num_classes is required")
    indices = convert_to_numpy(inputs)
    encoded = convert_to_numpy(one_hot(indices, num_classes, axis=axis, dtype=dtype,
                                       sparse=sparse))
    reduced = encoded.max(axis=1 if indices.ndim > 1 else 0)
    return ember.from_numpy(np.ascontiguousarray(reduced))


# ---- losses -------------------------------------------------------------------------------------
def _same_shape(owner, target, output):
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"keras.ops.{owner}: arguments `target` and `output` must have the "
                         f"same shape. Received: target.shape={tuple(target.shape)}, "
                         f"output.shape={tuple(output.shape)}")


def _clipped(output):
    eps = config.epsilon()
    return ember.clamp(output, eps, 1.0 - eps)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = as_float(target), as_float(output)
    _same_shape("categorical_crossentropy", target, output)
    if output.dim() < 1:
        raise ValueError("keras.ops.categorical_crossentropy: arguments must be at least "
                         "rank 1")
    axis = normalize_axis(axis, output.dim(), "categorical_crossentropy")
    if from_logits:
        log_prob = F.log_softmax(output, dim=axis)
    else:
        log_prob = ember.log(_clipped(output / ember.sum(output, dim=axis, keepdim=True)))
    return -ember.sum(target * log_prob, dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = as_float(output)
    if output.dim() < 1:
        raise ValueError("keras.ops.sparse_categorical_crossentropy: `output` must be at "
                         "least rank 1")
    axis = normalize_axis(axis, output.dim(), "sparse_categorical_crossentropy")
    labels = convert_to_numpy(target).astype(np.int64)
    if labels.ndim == output.dim() and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    expected = tuple(d for i, d in enumerate(output.shape) if i != axis)
    if labels.shape != expected:
        raise ValueError("keras.ops.sparse_categorical_crossentropy: arguments `target` and "
                         "`output` must have the same shape up until the class axis. "
                         f"Received: target.shape={labels.shape}, "
                         f"output.shape={tuple(output.shape)}")
    encoded = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    return categorical_crossentropy(encoded, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    target, output = as_float(target), as_float(output)
    _same_shape("binary_crossentropy", target, output)
    if from_logits:  # the stable form of -t*log(sigmoid(x)) - (1-t)*log(1-sigmoid(x))
        return F.relu(output) - output * target + F.softplus(-ember.abs(output))
    output = _clipped(output)
    return -(target * ember.log(output) + (1.0 - target) * ember.log(1.0 - output))


# ---- statistics ----------------------------------------------------------------------------------
def moments(x, axes, keepdims=False, synchronized=False):
    if synchronized:
        raise NotImplementedError("keras.ops.moments: synchronized=True is not supported by "
                                  "ember")
    x = as_float(x)
    dims = axes_argument(axes, x.dim(), "moments")
    mean = ember.mean(x, dim=dims, keepdim=True)
    variance = ember.mean((x - mean) * (x - mean), dim=dims, keepdim=True)
    if not keepdims:
        shape = tuple(d for i, d in enumerate(x.shape) if i not in dims)
        mean, variance = mean.reshape(shape), variance.reshape(shape)
    return mean, variance


def normalize(x, axis=-1, order=2, epsilon=None):
    x = as_float(x)
    eps = config.epsilon() if epsilon is None else epsilon
    norm = ember.linalg.vector_norm(x, ord=order, dim=normalize_axis(axis, x.dim(), "normalize"),
                                    keepdim=True)
    return x / ember.clamp(norm, min=eps)


__all__ = [
    "batch_normalization", "dot_product_attention", "layer_normalization", "rms_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "elu", "gelu", "glu",
    "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu",
    "log_sigmoid", "log_softmax", "moments", "multi_hot", "normalize", "one_hot", "relu",
    "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_categorical_crossentropy", "sparse_plus", "squareplus", "swish", "tanh_shrink",
    "threshold"]
