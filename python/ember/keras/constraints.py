"""keras.constraints: projections applied to a weight after each optimizer update (Keras 3
formulas, names and configs). A constraint is called on the weight in Keras' layout and
returns the projected tensor; ``apply_constraints`` writes it back after a step."""
from __future__ import annotations

import numpy as np

import ember
from . import object_registration as registration

_EPSILON = 1e-7  # keras.backend.epsilon()


def _as_tensor(w):
    # (Keras converts array inputs to float32 tensors)
    return w if isinstance(w, ember.Tensor) else ember.tensor(np.asarray(w, np.float32))


def _norms(w, axis):
    dim = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return ember.sqrt((w * w).sum(dim=dim, keepdim=True))


class Constraint:
    """Base class: subclasses define ``__call__(w)`` returning the projected weight."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales the weights incident to each unit (norms over ``axis``) to norm <= max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = ember.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return ember.clamp(_as_tensor(w), min=0)


class UnitNorm(Constraint):
    """Rescales the weights incident to each unit (norms over ``axis``) to norm 1."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norms over ``axis`` toward [min_value, max_value] at ``rate`` (1 = strictly)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * ember.clamp(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras' lower-case aliases.
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({"constraint": Constraint, "max_norm": MaxNorm, "non_neg": NonNeg,
                 "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm})


def serialize(constraint):
    """Keras 3's dict form (None for None); custom constraints must be registered."""
    return registration.serialize_configurable(constraint, _CLASSES, "keras.constraints",
                                               "constraint")


def deserialize(config, custom_objects=None):
    """The constraint a ``serialize`` result (or a registered name) describes."""
    return registration.deserialize_configurable(config, _BY_NAME, "constraint", custom_objects)


def get(identifier):
    """None, a constraint, a callable, a name or a config dict."""
    return registration.get_configurable(identifier, _BY_NAME, "constraint")


def apply_constraints(params) -> None:
    """After an optimizer step: each parameter with a constraint (set by Layer.add_weight)
    takes the constraint's projection of its value in Keras' layout."""
    for p in params:
        spec = getattr(p, "_keras_constraint", None)
        if spec is None or not p.requires_grad:  # (Keras: trainable variables only)
            continue
        constraint, to_keras, from_keras = spec
        with ember.no_grad():
            value = constraint(ember.from_numpy(np.array(to_keras(p.detach().numpy()), order="C")))
            value = value.numpy() if isinstance(value, ember.Tensor) else np.asarray(value)
            p.copy_(ember.from_numpy(np.array(from_keras(value), dtype=p.dtype.numpy,
                                              order="C")))
