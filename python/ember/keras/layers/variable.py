"""The weights ``Layer.add_weight`` creates: ember Parameters with Keras 3's Variable API
(``name``, ``path``, ``trainable``, ``value``, ``numpy()``, ``assign``/``assign_add``/
``assign_sub``), so subclassed layers written for Keras update their state as in Keras."""
from __future__ import annotations

import copy

import numpy as np

import ember
from ...nn import Parameter


class KerasVariable(Parameter):
    """A Parameter that also answers to Keras' Variable methods."""

    @property
    def trainable(self) -> bool:
        return self.requires_grad

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.requires_grad_(bool(value))

    @property
    def value(self):
        return self

    def numpy(self) -> np.ndarray:
        """A copy of the current value (Keras: also for trainable variables)."""
        return np.array(self._array, copy=True)

    def assign(self, value):
        """Sets the value in place (no gradient), keeping the shape and dtype."""
        array = value.detach().numpy() if isinstance(value, ember.Tensor) else value
        array = np.asarray(array, dtype=self._array.dtype)
        if array.shape != self._array.shape:
            raise ValueError(f"The shape of the target variable and the shape of the target "
                             f"value in `variable.assign(value)` must match. "
                             f"variable.shape={tuple(self.shape)}, Received: "
                             f"value.shape={array.shape}. Target variable: {self.path}")
        with ember.no_grad():
            self.copy_(ember.from_numpy(np.array(array, order="C")))
        return self

    def assign_add(self, value):
        return self.assign(self._array + _array_of(value))

    def assign_sub(self, value):
        return self.assign(self._array - _array_of(value))

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __repr__(self):
        return (f"<KerasVariable path={self.__dict__.get('path')}, shape={tuple(self.shape)}, "
                f"dtype={self.dtype}, value={self._array!r}>")

    __str__ = __repr__


def check_variable_args(owner, kind, dtype, aggregation):
    """The checks add_weight and Metric.add_variable share: float32 only, Keras' aggregations."""
    if dtype not in (None, "float32", ember.float32):
        raise NotImplementedError(f"{owner}: only float32 {kind} are supported by ember. "
                                  f"Received: dtype={dtype!r}")
    if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
        raise ValueError(f"{owner}: invalid value for argument `aggregation`. Expected one of "
                         "`None`, `'none'`, `'mean'`, `'sum'`, `'only_first_replica'`. "
                         f"Received: aggregation={aggregation!r}")


def _array_of(value):
    return value.detach().numpy() if isinstance(value, ember.Tensor) else np.asarray(value)
