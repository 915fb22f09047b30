"""keras.layers.Normalization: ``(inputs - mean) / max(sqrt(variance), 1e-7)`` per feature.

The statistics come from ``adapt(data)`` (an array, an ember Tensor, or an iterable of
batches, combined as Keras does) or from the ``mean``/``variance`` arguments. Adapted
statistics are the layer's non-trainable weights ``mean``, ``variance`` and ``count`` (Keras
keeps ``count`` at 0 for old saved models), so ``get_weights`` gives Keras' three arrays."""
from __future__ import annotations

import math
import numbers

import numpy as np

import ember
from ..layer import Layer
from .image_utils import float_input

_EPSILON = 1e-7  # keras.backend.epsilon()


def _standardize_axis(axis):
    if axis is None:
        return ()
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return (int(axis),)
    try:
        axes = tuple(axis)
    except TypeError:
        axes = None
    if axes is None or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                               for a in axes):
        raise ValueError("Normalization: axis must be an integer, a tuple of integers or None. "
                         f"Received: axis={axis!r}")
    return tuple(int(a) for a in axes)


def _first_batch(batch):
    """An (x, y) or (x, y, sample_weight) batch gives its x, as Keras' adapt reads it."""
    return batch[0] if isinstance(batch, tuple) else batch


def _as_array(data):
    if isinstance(data, ember.Tensor):
        return data.detach().numpy()
    return np.asarray(data)


class Normalization(Layer):
    """Normalizes each index of the kept ``axis`` (default: the last, the features) to mean 0
    and variance 1 with statistics from ``adapt`` or ``mean``/``variance``; ``invert=True``
    maps normalized values back."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _standardize_axis(axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self._mean = self._variance = None  # the given statistics, broadcast, once built
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must "
                                 f"have the same shape. Received: mean shape {np.shape(mean)} "
                                 f"and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")

    # ---- build: the kept axes, the broadcast shape, the state ----------------------------------
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError("All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={input_shape}, with "
                                 f"unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.register_buffer("mean", ember.zeros(*self._mean_and_var_shape))
            self.register_buffer("variance", ember.ones(*self._mean_and_var_shape))
            self.register_buffer("count", ember.zeros(()))
            self.built = True
        else:
            self._mean = self._given(self.input_mean, "mean")
            self._variance = self._given(self.input_variance, "variance")
            self.built = True

    def _given(self, value, name):
        """A ``mean``/``variance`` argument aligned right to left with the kept axes."""
        value = np.asarray(value, dtype=np.float32)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape).copy()
        except ValueError:
            raise ValueError(f'Normalization "{self.name}": {name} of shape {value.shape} does '
                             "not broadcast to the kept axes of the input, shape "
                             f"{self._mean_and_var_shape}") from None

    def _own_weights(self):
        own = super()._own_weights()
        if self.built and self.input_mean is None:
            own += [(n, self._buffers[n]) for n in ("mean", "variance", "count")]
        return own

    def get_weights(self):
        weights = super().get_weights()
        if weights:  # Keras' count is an int32 scalar
            weights[2] = weights[2].astype(np.int32)
        return weights

    def finalize_state(self):
        """Kept for Keras' API: ember reads the ``mean``/``variance`` weights on every call,
        so there is nothing to refresh after ``set_weights`` or loading."""

    def _statistics(self, dtype):
        """(mean, standard deviation floored at epsilon), shaped to broadcast on inputs."""
        if self.input_mean is None:
            mean = self.mean.numpy().reshape(self._broadcast_shape)
            variance = self.variance.numpy().reshape(self._broadcast_shape)
        else:
            mean, variance = self._mean, self._variance
        std = np.maximum(np.sqrt(variance), np.float32(_EPSILON))
        return ember.from_numpy(mean.astype(dtype)), ember.from_numpy(std.astype(dtype))

    # ---- adapt ---------------------------------------------------------------------------------
    def adapt(self, data):
        """Computes the mean and variance of ``data`` (an array or Tensor, or an iterable of
        batches, each an array or an (x, y) tuple) for each index of the kept axes."""
        if isinstance(data, (np.ndarray, ember.Tensor)):
            batches, first = None, _as_array(data)
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at "
                                 "least one batch.")
            first = _first_batch(first)
            if not hasattr(first, "shape"):
                raise TypeError("adapt() expects an iterable that yields arrays or tensors with "
                                "a `.shape` attribute. Got an element of type "
                                f"{type(first).__name__}.")
            batches = (_as_array(_first_batch(b)) for b in _chain(first, iterator))
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports "
                            "`np.ndarray`, ember Tensors and iterables of batches (e.g. a list "
                            "or a generator).")
        shape = tuple(first.shape)
        if not self.built:
            self.build(shape)
        self._check_kept_axes(shape, "adapt() is being called with data with an incompatible "
                                     f"shape, data.shape={shape}")
        if self.input_mean is not None:
            raise ValueError(f'Normalization "{self.name}": adapt() needs a layer without the '
                             "`mean` and `variance` arguments")
        if batches is None:
            data = np.asarray(first, dtype=np.float64)
            total_mean = data.mean(axis=self._reduce_axis)
            total_var = data.var(axis=self._reduce_axis)
        else:
            total_mean, total_var = self._combine(batches)
        with ember.no_grad():
            self.mean.copy_(ember.from_numpy(np.asarray(total_mean, np.float32)))
            self.variance.copy_(ember.from_numpy(np.asarray(total_var, np.float32)))

    def _check_kept_axes(self, shape, message):
        if len(shape) != len(self._build_input_shape) or any(
                shape[d] != self._build_input_shape[d] for d in self._keep_axis):
            raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, "
                             f"but {message}")

    def _combine(self, batches):
        """Keras' running combination of batch means and variances (lack-of-fit sum of
        squares), each batch weighted by its count."""
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in batches:
            batch = np.asarray(batch, dtype=np.float64)
            self._check_kept_axes(batch.shape, "adapt() yielded a batch with incompatible "
                                               f"shape {batch.shape}")
            batch_mean = batch.mean(axis=self._reduce_axis)
            batch_var = batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1.0 - weight) + batch_mean * weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1.0 - weight)
                         + (batch_var + (batch_mean - new_mean) ** 2) * weight)
            total_mean = new_mean
        return total_mean, total_var

    # ---- call ----------------------------------------------------------------------------------
    def call(self, inputs):
        inputs, _ = float_input(inputs)
        if inputs.ndim != len(self._build_input_shape) or any(
                inputs.shape[d] != self._build_input_shape[d] for d in self._keep_axis):
            raise ValueError(f'Normalization "{self.name}": the layer was built for inputs of '
                             f"shape {self._build_input_shape} (axis={self.axis}); received "
                             f"shape {tuple(inputs.shape)}")
        mean, std = self._statistics(inputs.dtype.numpy)
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}


def _chain(first, rest):
    yield first
    yield from rest
