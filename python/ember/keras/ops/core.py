"""keras.ops core: conversion, dtypes, shapes and control flow over ember tensors.

Keras' dtype rules for what is not yet a tensor: Python ints become int32 (int64 beyond its
range), floats float32, bools bool; NumPy arrays keep their dtype. Results are ember Tensors,
differentiable through ember's autograd.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

import ember
from ...nn import functional as F
from ..layers.input_layer import KerasTensor

_FLOATS = ("float16", "bfloat16", "float32", "float64")


def standardize_dtype(dtype) -> str:
    """Keras' dtype name ("float32", "int32", "bool", ...) of an ember, NumPy or named dtype."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, ember.dtype):
        return str(dtype).replace("ember.", "")
    if dtype is builtins.int:
        return "int32"
    if dtype is builtins.float:
        return "float32"
    if dtype is builtins.bool:
        return "bool"
    if isinstance(dtype, str) and dtype in ("int", "float"):
        return {"int": "int64", "float": "float32"}[dtype]
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}") from None


def ember_dtype(dtype):
    """The ember dtype for a Keras dtype name (or any dtype standardize_dtype reads)."""
    name = standardize_dtype(dtype)
    found = getattr(ember, name, None)
    if not isinstance(found, ember.dtype):
        raise NotImplementedError(f"keras.ops: dtype {name!r} is not supported by ember")
    return found


def _python_dtype(values) -> str:
    """Keras' dtype for Python scalars or nested lists of them."""
    flat = list(_flatten(values))
    if not flat:
        return "float32"
    if all(isinstance(v, (builtins.bool, np.bool_)) for v in flat):
        return "bool"
    if any(isinstance(v, (str, bytes)) for v in flat):
        return "string"
    if any(isinstance(v, (float, np.floating)) for v in flat):
        return "float32"
    if all(isinstance(v, numbers.Integral) for v in flat):
        big = any(v < -(2 ** 31) or v >= 2 ** 31 for v in flat)
        return "int64" if big else "int32"
    return "float32"


def _flatten(values):
    if isinstance(values, (list, tuple)):
        for v in values:
            yield from _flatten(v)
    else:
        yield values


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """An ember Tensor of ``x`` (a tensor keeps its autograd history; a cast is
    differentiable)."""
    if sparse:
        raise NotImplementedError("keras.ops.convert_to_tensor: sparse=True is not supported "
                                  "by ember")
    if ragged:
        raise NotImplementedError("keras.ops.convert_to_tensor: ragged=True is not supported "
                                  "by ember")
    if isinstance(x, ember.Tensor):
        return x if dtype is None else cast(x, dtype)
    if isinstance(x, KerasTensor):
        raise NotImplementedError(
            "keras.ops on a symbolic tensor (from keras.Input) is not supported by ember: its "
            "ops compute on values. Put the computation in a custom Layer's call().")
    if isinstance(x, (list, tuple)) and any(isinstance(v, ember.Tensor) for v in _flatten(x)):
        return ember.stack([convert_to_tensor(v, dtype) for v in x])
    if dtype is None:
        if isinstance(x, np.ndarray) or isinstance(x, np.generic):
            dtype = "string" if x.dtype.kind in "US" else x.dtype.name
        else:
            dtype = _python_dtype(x)
    if dtype == "string":  # (as Keras on torch: "Unsupported dtype for PyTorch: string")
        raise ValueError("keras.ops.convert_to_tensor: ember Tensors hold no strings; pass "
                         "NumPy arrays of strings to the text layers (TextVectorization, "
                         'StringLookup, ...) or to a model whose keras.Input has dtype="string"')
    target = ember_dtype(dtype)
    array = np.asarray(x, dtype=target.numpy if hasattr(target, "numpy") else None)
    return ember.from_numpy(np.array(array, copy=True, order="C"))


def convert_to_numpy(x):
    """A NumPy array of ``x`` (detached from autograd)."""
    if isinstance(x, ember.Tensor):
        return np.array(x.detach().numpy(), copy=True)
    return np.asarray(x)


def is_tensor(x) -> bool:
    return isinstance(x, ember.Tensor)


def cast(x, dtype):
    x = convert_to_tensor(x) if not isinstance(x, ember.Tensor) else x
    target = ember_dtype(dtype)
    return x if x.dtype == target else x.to(target)


def dtype(x) -> str:
    """Keras' name of the dtype of ``x``."""
    return standardize_dtype(convert_to_tensor(x).dtype)


def shape(x) -> tuple:
    """The static shape of ``x`` as a tuple of ints."""
    return tuple(int(d) for d in (x.shape if hasattr(x, "shape") else np.shape(x)))


def ndim(x) -> int:
    return len(shape(x))


def size(x) -> int:
    return int(np.prod(shape(x), dtype=np.int64))


def stop_gradient(variable):
    return convert_to_tensor(variable).detach()


def copy(x):
    return convert_to_tensor(x).clone()


def as_float(x):
    """``x`` as a tensor; integer and bool inputs become float32 (Keras' math ops)."""
    x = convert_to_tensor(x)
    return x if standardize_dtype(x.dtype) in _FLOATS else x.to(ember.float32)


def float_unary(fn):
    """The Keras op ``fn(as_float(x))`` (named as ``fn``: ember.asin gives "asin")."""
    def op(x):
        return fn(as_float(x))
    op.__name__ = op.__qualname__ = fn.__name__
    return op


def normalize_axis(axis, rank, owner):
    """A non-negative axis, or an IndexError naming the op and the rank."""
    if isinstance(axis, builtins.bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"keras.ops.{owner}: axis must be an integer. Received: axis={axis!r}")
    if not -rank <= axis < builtins.max(rank, 1):
        raise IndexError(f"keras.ops.{owner}: axis {axis} is out of bounds for a tensor of "
                         f"rank {rank}")
    return int(axis) % builtins.max(rank, 1)


def axes_argument(axis, rank, owner):
    """None, or a tuple of non-negative axes for ember's ``dim=``."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(normalize_axis(a, rank, owner) for a in axes)


# ---- control flow (run eagerly: ember has no graph to trace) ----------------------------------
def cond(pred, true_fn, false_fn):
    return true_fn() if builtins.bool(_as_python(pred)) else false_fn()


def switch(index, branches, *operands):
    index = int(_as_python(index))
    index = builtins.min(builtins.max(index, 0), len(branches) - 1)  # Keras clamps the index
    return branches[index](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    value = init_val
    for i in range(int(_as_python(lower)), int(_as_python(upper))):
        value = body_fun(i, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    is_tuple = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    count = 0
    while builtins.bool(_as_python(cond(*state))):
        if maximum_iterations is not None and count >= maximum_iterations:
            break
        state = body(*state)
        state = tuple(state) if isinstance(state, (list, tuple)) else (state,)
        count += 1
    return state if is_tuple else state[0]


def map(f, xs):  # noqa: A001  (Keras' name)
    xs = convert_to_tensor(xs)
    return ember.stack([f(xs[i]) for i in range(xs.shape[0])])


def vectorized_map(function, elements):
    return map(function, elements)


def unstack(x, num=None, axis=0):
    x = convert_to_tensor(x)
    axis = normalize_axis(axis, x.dim(), "unstack")
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"keras.ops.unstack: num={num} does not match the size "
                         f"{x.shape[axis]} of axis {axis} of a tensor of shape {tuple(x.shape)}")
    return [x[(builtins.slice(None),) * axis + (i,)] for i in range(x.shape[axis])]


def slice(inputs, start_indices, shape):  # noqa: A001  (Keras' name)
    """``inputs[start:start + size]`` on every axis."""
    inputs = convert_to_tensor(inputs)
    starts = [int(_as_python(s)) for s in start_indices]
    sizes = [int(_as_python(s)) for s in shape]
    if len(starts) != inputs.dim() or len(sizes) != inputs.dim():
        raise ValueError(f"keras.ops.slice: start_indices and shape need {inputs.dim()} entries "
                         f"for a tensor of shape {tuple(inputs.shape)}. Received: "
                         f"start_indices={starts}, shape={sizes}")
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))
    return inputs[index]


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (differentiable
    in both)."""
    inputs, updates = convert_to_tensor(inputs), convert_to_tensor(updates)
    starts = [int(_as_python(s)) for s in start_indices]
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    mask = np.ones(tuple(inputs.shape), dtype=builtins.bool)
    mask[index] = False
    pads = []
    for s, n, total in reversed(list(zip(starts, updates.shape, inputs.shape))):
        pads += [s, total - s - n]
    placed = F.pad(updates.to(inputs.dtype), pads)
    return ember.where(ember.from_numpy(mask), inputs, placed)


def _as_python(value):
    if isinstance(value, ember.Tensor):
        return value.detach().numpy().item()
    if isinstance(value, np.ndarray):
        return value.item()
    return value
