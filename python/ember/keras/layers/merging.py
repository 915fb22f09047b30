"""keras.layers merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
Dot) and their functions (add, subtract, ...): each takes a list of tensors.

Elementwise merges broadcast as Keras does: inputs of lower rank get size-1 axes inserted
after the batch axis, then sizes must agree or be 1. The math is ember tensor ops, so
autograd differentiates it. Keras' masked Multiply/Maximum/Minimum (which fill masked steps)
are not supported: a mask reaching them raises NotImplementedError.
"""
from __future__ import annotations

import functools
import numbers
import operator

import numpy as np

import ember
from .layer import Layer


def _shape_text(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def _mask_array(mask):
    return mask.numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)


class _Merge(Layer):
    """Base of the merge layers: ``call(list_of_tensors)``; subclasses define ``_merge``."""

    _min_inputs = 1
    _mask_free = True  # the result does not depend on masks (Keras ignores them in the math)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_list(self, inputs, what="inputs"):
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A `{kind}` layer should be called on a list of inputs. "
                             f"Received: {what}={inputs!r:.100} (not a list)")
        if len(inputs) < self._min_inputs:
            raise ValueError(f"A `{kind}` layer should be called on a list of at least "
                             f"{self._min_inputs} inputs. Received {len(inputs)} inputs.")

    def build(self, input_shape):
        if not all(isinstance(s, (tuple, list)) for s in input_shape):  # one tensor's shape
            input_shape = None
        self._check_list(input_shape, "input_shape")
        self._output_shape([tuple(s) for s in input_shape])
        self.built = True

    def _output_shape(self, shapes):
        """Keras' elementwise broadcasting of the shapes (batch axis first)."""
        batches = {s[0] for s in shapes if s and s[0] is not None}
        if len(batches) > 1:
            raise ValueError("Cannot merge tensors with different batch sizes. Received "
                             f"tensors with shapes {_shape_text(shapes)}")
        out = tuple(shapes[0][1:])
        for shape in shapes[1:]:
            long, short = (out, tuple(shape[1:])) if len(out) >= len(shape) - 1 \
                else (tuple(shape[1:]), out)
            merged = list(long[:len(long) - len(short)])
            for i, j in zip(long[len(long) - len(short):], short):
                if i is None or j is None:
                    merged.append(None)
                elif i == 1 or j == 1:
                    merged.append(j if i == 1 else i)
                elif i != j:
                    raise ValueError(f"{type(self).__name__}: inputs have incompatible shapes. "
                                     f"Received shapes {_shape_text(shapes)}")
                else:
                    merged.append(i)
            out = tuple(merged)
        return (batches.pop() if batches else None,) + out

    def call(self, inputs, mask=None):
        self._check_list(inputs)
        inputs = list(inputs)
        self._output_shape([tuple(x.shape) for x in inputs])
        if mask is not None and not self._mask_free and any(m is not None for m in mask):
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': masked inputs "
                                      "(Keras fills masked steps before merging) are not "
                                      "supported by ember")
        rank = max(x.dim() for x in inputs)
        inputs = [x.reshape(x.shape[0], *([1] * (rank - x.dim())), *x.shape[1:])
                  if x.dim() < rank else x for x in inputs]
        return self._merge(inputs)

    def compute_output_shape(self, input_shape):
        return self._output_shape([tuple(s) for s in input_shape])

    def compute_mask(self, inputs, mask=None):
        """Keras: the OR of the input masks when every input has one, else no mask."""
        if mask is None or any(m is None for m in mask):
            return None
        out = _mask_array(mask[0])
        for m in mask[1:]:
            out = np.logical_or(out, _mask_array(m))
        return ember.from_numpy(out)


class Add(_Merge):
    """Elementwise sum of a list of inputs."""

    def _merge(self, inputs):
        return functools.reduce(operator.add, inputs)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def _check_list(self, inputs, what="inputs"):
        super()._check_list(inputs, what)
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: {len(inputs)} inputs")

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    _mask_free = False

    def _merge(self, inputs):
        return functools.reduce(operator.mul, inputs)


class Average(_Merge):
    """Elementwise mean of a list of inputs."""

    def _merge(self, inputs):
        return functools.reduce(operator.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    _mask_free = False

    def _merge(self, inputs):
        return functools.reduce(ember.maximum, inputs)


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    _mask_free = False

    def _merge(self, inputs):
        return functools.reduce(ember.minimum, inputs)


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis``; other axes must match."""

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"Concatenate: axis must be an integer. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _output_shape(self, shapes):
        ranks = {len(s) for s in shapes}
        error = ValueError("A `Concatenate` layer requires inputs with matching shapes except "
                           f"for the concatenation axis. Received: input_shape="
                           f"[{_shape_text(shapes)}]")
        if len(ranks) != 1:
            raise error
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"Concatenate: axis {self.axis} is out of bounds for inputs of "
                             f"rank {rank}. Received: input_shape=[{_shape_text(shapes)}]")
        axis = self.axis % rank
        out = list(shapes[0])
        for shape in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, shape)):
                if i != axis and a is not None and b is not None and a != b:
                    raise error
                if i != axis and a is None:
                    out[i] = b
            out[axis] = None if out[axis] is None or shape[axis] is None \
                else out[axis] + shape[axis]
        return tuple(out)

    def call(self, inputs, mask=None):
        self._check_list(inputs)
        self._output_shape([tuple(x.shape) for x in inputs])
        return ember.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras: each input's mask spread over its features (all True where it has none),
        concatenated, then any() over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        spread = []
        for x, m in zip(inputs, mask):
            shape = tuple(x.shape)
            if m is None:
                spread.append(np.ones(shape, bool))
                continue
            m = _mask_array(m)
            if m.ndim < len(shape):
                m = np.broadcast_to(m[..., None], shape)
            spread.append(m)
        return ember.from_numpy(np.concatenate(spread, axis=self.axis).any(axis=-1))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot products of the samples of two inputs along ``axes`` (Keras' batch_dot): the
    output has the first input's other axes, then the second's (without its batch axis);
    a result of rank 1 becomes (batch, 1). ``normalize=True`` L2-normalizes both inputs along
    the axes first (cosine proximity)."""

    _min_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        if isinstance(axes, bool) or not isinstance(axes, (numbers.Integral, list, tuple)):
            raise TypeError("Invalid type for argument `axes`: it should be a list or an int. "
                            f"Received: axes={axes!r}")
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes!r}")
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes!r}")
            axes = (int(axes[0]), int(axes[1]))
        else:
            axes = int(axes)
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)

    def _check_list(self, inputs, what="inputs"):
        super()._check_list(inputs, what)
        if len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: {len(inputs)} inputs")

    def _resolved_axes(self, shapes):
        pairs = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        for shape in shapes:
            if len(shape) < 2:
                raise ValueError(f"Dot: cannot do batch_dot on inputs with rank < 2. Received "
                                 f"inputs with shapes {_shape_text(shapes)}.")
        axes = []
        for axis, shape in zip(pairs, shapes):
            if not -len(shape) <= axis < len(shape):
                raise ValueError(f"Dot: axes={self.axes} is out of bounds for inputs with "
                                 f"shapes {_shape_text(shapes)}")
            axes.append(axis % len(shape))
        if 0 in axes:
            raise ValueError(f"Dot: cannot perform batch_dot over axis 0 (the batch axis). "
                             f"Received: axes={self.axes}")
        return axes

    def _output_shape(self, shapes):
        a0, a1 = self._resolved_axes(shapes)
        s0, s1 = list(shapes[0]), list(shapes[1])
        if s0[0] is not None and s1[0] is not None and s0[0] != s1[0]:
            raise ValueError("Dot: cannot do batch_dot on inputs with different batch sizes. "
                             f"Received inputs with shapes {_shape_text(shapes)}.")
        if s0[a0] is not None and s1[a1] is not None and s0[a0] != s1[a1]:
            raise ValueError(f"Incompatible input shapes: axis values {s0[a0]} (at axis {a0}) "
                             f"!= {s1[a1]} (at axis {a1}). Full input shapes: "
                             f"{_shape_text(shapes)}")
        out = s0[:a0] + s0[a0 + 1:] + s1[1:a1] + s1[a1 + 1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def call(self, inputs, mask=None):
        self._check_list(inputs)
        x, y = inputs
        shapes = [tuple(x.shape), tuple(y.shape)]
        self._output_shape(shapes)
        a0, a1 = self._resolved_axes(shapes)
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        letters = "abcdefghijklmnopqrstuvwxy"  # (z is the batch axis)
        xs = ["z"] + [letters[i] for i in range(x.dim() - 1)]
        ys = ["z"] + [letters[x.dim() + i] for i in range(y.dim() - 1)]
        ys[a1] = xs[a0]  # the contracted axis
        out = [s for i, s in enumerate(xs) if i != a0] + [s for i, s in enumerate(ys)
                                                           if i not in (0, a1)]
        result = ember.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
        return result.reshape(result.shape[0], 1) if result.dim() == 1 else result

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis):
    """Keras' normalize: x / max(||x||, 1e-7) along ``axis``."""
    norm = ember.sqrt((x * x).sum(dim=axis, keepdim=True))
    return x / ember.clamp(norm, min=1e-7)


# ---- functional forms: layers.add([a, b]) is Add()([a, b]) -----------------------------------
def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes=axes, **kwargs)(inputs)
