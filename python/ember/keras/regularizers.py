"""keras.regularizers: weight and activity penalties (Keras 3 formulas, names and configs).

A regularizer is called on a weight in Keras' layout (or on a layer output) and returns a
scalar ember Tensor, differentiable through ember's ops; layers collect the penalties in
``layer.losses`` and fit adds them to the training loss.
"""
from __future__ import annotations

import math

import numpy as np

import ember
from . import object_registration as registration

_EPSILON = 1e-7  # keras.backend.epsilon()


def _as_tensor(x):
    # (Keras converts array inputs to float32 tensors)
    return x if isinstance(x, ember.Tensor) else ember.tensor(np.asarray(x, np.float32))


def _float32(value) -> float:
    # Keras keeps these factors as float32 tensors; get_config returns float(tensor).
    return float(np.float32(value))


def validate_float_arg(value, name):
    if isinstance(value, bool) or not isinstance(value, (float, int)) or math.isinf(value) \
            or math.isnan(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float."
                         f"Received: {name}={value}")
    return float(value)


class Regularizer:
    """Base class: subclasses define ``__call__(x)`` (a scalar penalty) and ``get_config``."""

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _as_tensor(x)
        regularization = ember.zeros((), dtype=x.dtype)
        if self.l1 != 0.0:
            regularization = regularization + self.l1 * ember.abs(x).sum()
        if self.l2 != 0.0:
            regularization = regularization + self.l2 * (x * x).sum()
        return regularization

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        self.l1 = _float32(validate_float_arg(0.01 if l1 is None else l1, name="l1"))

    def __call__(self, x):
        return self.l1 * ember.abs(_as_tensor(x)).sum()

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _as_tensor(x)
        return self.l2 * (x * x).sum()

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """``factor * 0.5 * mean |<u_i, u_j>|`` over the pairs of L2-normalized rows (or columns
    with mode="columns") of a rank-2 input."""

    def __init__(self, factor=0.01, mode="rows"):
        validate_float_arg(factor, name="factor")
        self.factor = _float32(factor)
        if mode not in {"rows", "columns"}:
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", '
                             f'"columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, inputs):
        inputs = _as_tensor(inputs)
        if len(inputs.shape) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={tuple(inputs.shape)}")
        axis = 1 if self.mode == "rows" else 0
        # keras.ops.normalize: x * min(rsqrt(sum(x ** 2)), 1 / epsilon).
        inv_norm = ember.clamp(ember.rsqrt((inputs * inputs).sum(dim=axis, keepdim=True)),
                               max=1.0 / _EPSILON)
        inputs = inputs * inv_norm
        if self.mode == "rows":
            product, size = ember.matmul(inputs, inputs.T), inputs.shape[0]
        else:
            product, size = ember.matmul(inputs.T, inputs), inputs.shape[1]
        off_diagonal = product * (1.0 - ember.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * ember.abs(off_diagonal).sum() / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras' lower-case aliases.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
# Keras' snake-case identifiers ("l1", "l2", "l1l2", "orthogonal_regularizer"); Keras 3 has no
# "l1_l2" string (get("l1_l2") raises there too).
_BY_NAME.update({"regularizer": Regularizer, "l1": L1, "l2": L2, "l1l2": L1L2,
                 "orthogonal_regularizer": OrthogonalRegularizer})


def serialize(regularizer):
    """Keras 3's dict form (None for None); custom regularizers must be registered."""
    return registration.serialize_configurable(regularizer, _CLASSES, "keras.regularizers",
                                               "regularizer")


def deserialize(config, custom_objects=None):
    """The regularizer a ``serialize`` result (or a registered name) describes."""
    return registration.deserialize_configurable(config, _BY_NAME, "regularizer", custom_objects)


def get(identifier):
    """None, a regularizer, a callable, a name or a config dict."""
    return registration.get_configurable(identifier, _BY_NAME, "regularizer")
