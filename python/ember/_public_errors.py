"""Errors of public functions as PyTorch raises them. A function that trips over a bad argument
inside (an AttributeError on None, NumPy's AxisError or UFuncTypeError, OverflowError of a huge
int, pybind11's "incompatible function arguments" listing private `_core` signatures) raises
instead the TypeError/ValueError/IndexError PyTorch would, naming the function and the argument:
    TypeError: cumsum(): argument 'input' (position 1) must be Tensor, not NoneType
The wrapper costs one call frame, so the ops a training step calls many times are left as they
are (they check their arguments themselves or go through Function.apply, which translates)."""
from __future__ import annotations

import functools
import inspect
import numbers
import types

import numpy as np

from ._errors import AxisError, internal_error
from .tensor import Tensor

_PYBIND_TEXT = ("incompatible function arguments", "_core.")
# Ops a training step calls many times: they go straight into Function.apply (which translates
# a leaked error itself) or check their arguments themselves; a wrapper would only cost time.
HOT = frozenset({
    "add", "sub", "mul", "div", "matmul", "relu", "sigmoid", "tanh", "exp", "log", "sum",
    "mean", "linear", "tensor", "is_tensor", "zeros", "ones", "empty", "full", "arange",
    "from_numpy", "as_tensor", "is_grad_enabled", "get_num_threads", "set_num_threads", "save",
    "load",
})

# Argument names that take a tensor in PyTorch's signatures.
TENSOR_ARGUMENTS = frozenset({
    "input", "other", "tensor", "mat", "mat1", "mat2", "vec", "vec1", "vec2", "batch1", "batch2",
    "source", "src", "index", "weight", "tensor1", "tensor2", "end", "target", "A", "B",
    "elements", "test_elements", "sorted_sequence", "indices", "values", "mask", "x1", "x2",
    "log_probs", "targets", "anchor", "positive", "negative", "query", "key", "value", "grid",
    "theta", "LD", "pivots", "b", "a",
})


def tensor_argument(op: str, name: str, value, position: int = 1):
    """`value` if it is a Tensor, else PyTorch's TypeError for argument `name` of `op`."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _leaked(err: BaseException) -> bool:
    """Whether `err` is not one of the errors ember means to raise."""
    if isinstance(err, AxisError) or type(err).__module__.startswith("numpy"):
        return True
    if isinstance(err, (ValueError, TypeError, IndexError, RuntimeError)):
        return any(s in str(err) for s in _PYBIND_TEXT)
    return isinstance(err, (AttributeError, KeyError, OverflowError, ZeroDivisionError))


@functools.lru_cache(maxsize=None)
def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _is_operand(value) -> bool:
    return isinstance(value, (Tensor, numbers.Number, np.ndarray, np.generic))


def _blame(name, fn, args, kwargs):
    """PyTorch's message for the first argument given a non-tensor where a tensor is wanted."""
    sig = _signature(fn)
    if sig is None:
        return None
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return None
    for position, (pname, param) in enumerate(sig.parameters.items(), 1):
        if pname not in bound.arguments or param.kind in (param.VAR_POSITIONAL,
                                                           param.VAR_KEYWORD):
            continue
        value = bound.arguments[pname]
        if pname == "tensors" and isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if not isinstance(item, Tensor):
                    return TypeError(f"expected Tensor as element {i} in argument "
                                     f"{position - 1}, but got {type(item).__name__}")
        wants_tensor = param.default is inspect.Parameter.empty and pname in TENSOR_ARGUMENTS
        if wants_tensor and not isinstance(value, Tensor) and not _is_operand(value):
            return TypeError(f"{name}(): argument '{pname}' (position {position}) must be "
                             f"Tensor, not {type(value).__name__}")
    return None


def _describe_call(name, fn, args, kwargs) -> str:
    sig = _signature(fn)
    try:
        items = list(sig.bind(*args, **kwargs).arguments.items()) if sig else None
    except TypeError:
        items = None
    if items is None:
        items = [(str(i), v) for i, v in enumerate(args)] + list(kwargs.items())

    def show(v):
        if isinstance(v, Tensor):
            return f"Tensor(shape={tuple(v.shape)}, dtype={v.dtype})"
        if isinstance(v, (numbers.Number, str, type(None))):
            return repr(v)[:40]
        return type(v).__name__
    return ", ".join(f"{k}={show(v)}" for k, v in items)


def translate(name, fn, err, args, kwargs):
    """The error to raise instead of `err` (which escaped `fn` called as `name`), or None to let
    `err` through unchanged."""
    if not _leaked(err):
        return None
    if isinstance(err, AxisError):
        return internal_error(name, err)
    blamed = _blame(name, fn, args, kwargs)
    if blamed is not None:
        return blamed
    described = _describe_call(name, fn, args, kwargs)
    if isinstance(err, OverflowError):
        return ValueError(f"{name}(): an argument is too large ({described}): {err}")
    if isinstance(err, ZeroDivisionError):
        return ValueError(f"{name}(): an argument must not be zero ({described})")
    return TypeError(f"{name}(): invalid arguments ({described})")


def with_public_errors(fn, name: str, module: str):
    @functools.wraps(fn)
    def public(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (AttributeError, KeyError, OverflowError, ZeroDivisionError, TypeError,
                ValueError, IndexError, RuntimeError) as err:
            better = translate(name, fn, err, args, kwargs)
            if better is None:
                raise
            raise better from None
    public.__module__, public.__qualname__ = module, name  # pickles by its public name
    public._public_errors = True
    return public


def wrap_public_functions(namespace: dict, module: str, skip=HOT) -> None:
    """Wraps every public plain function in `namespace` (a module's globals) but `skip`."""
    for name, obj in list(namespace.items()):
        if (isinstance(obj, types.FunctionType) and not name.startswith("_") and name not in skip
                and not getattr(obj, "_public_errors", False)
                and (obj.__module__ or "").startswith("ember")):
            namespace[name] = with_public_errors(obj, name, module)
