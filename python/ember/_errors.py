"""NumPy's errors re-raised as the exceptions PyTorch code catches, naming the op and shapes."""
from __future__ import annotations

import re

import numpy as np

from ._core import ShapeError

_BROADCAST_FAILURE = re.compile("could not (be )?broadcast")
# NumPy's out-of-range axis error (numpy.exceptions since 1.25; the top level before 2.0).
AxisError = getattr(getattr(np, "exceptions", np), "AxisError")


def broadcast_error(op: str, err: ValueError, operands=None) -> ValueError:
    """`err` as an ember.ShapeError (a RuntimeError, as PyTorch raises for shapes that do not
    broadcast) if it is NumPy's broadcast failure; otherwise `err` itself. Without `operands`
    the message keeps NumPy's account of the shapes."""
    if isinstance(err, ShapeError) or not _BROADCAST_FAILURE.search(str(err)):
        return err
    if operands is None:
        return ShapeError(f"{op}: {err}")
    shapes = " and ".join(str(tuple(np.shape(x))) for x in operands)
    return ShapeError(f"{op}: shapes {shapes} cannot be broadcast together (sizes must match or "
                      f"be 1 in each trailing dimension)")


def wrap_dim(dim, ndim: int) -> int:
    """`dim` as a non-negative axis of an `ndim`-D tensor, or PyTorch's IndexError (a 0-d tensor
    has dims -1 and 0, as in PyTorch)."""
    n = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an integer, got {type(dim).__name__} {dim!r:.40}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _describe(x) -> str:
    if hasattr(x, "_array") and isinstance(getattr(x, "_array"), np.ndarray):
        return f"Tensor(shape={tuple(x._array.shape)}, dtype={x._array.dtype})"
    if isinstance(x, np.ndarray):
        return f"ndarray(shape={x.shape}, dtype={x.dtype})"
    return type(x).__name__


_OPERAND_TYPES = (int, float, bool, complex, np.ndarray, np.generic, type(None))


def internal_error(op: str, err: BaseException, operands=(), params=None) -> BaseException:
    """An exception that escaped an op's arithmetic (AttributeError on a None input, NumPy's
    AxisError or UFuncTypeError, OverflowError of a huge int, ...) as the error PyTorch raises,
    naming the op and every operand; ember's own errors come back unchanged."""
    if isinstance(err, AxisError):
        n = max(err.ndim, 1) if err.ndim is not None else None
        if n is not None and err.axis is not None:
            return IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                              f"{n - 1}], but got {err.axis})")
        return IndexError(f"{op}: {err}")
    numpy_error = type(err).__module__.startswith("numpy")
    pybind_dump = "incompatible function arguments" in str(err)
    if not (numpy_error or pybind_dump) and isinstance(err, (ValueError, TypeError, IndexError,
                                                             RuntimeError)):
        return err
    described = ", ".join(_describe(x) for x in operands)
    settings = "" if not params else " with " + ", ".join(f"{k}={v!r:.40}"
                                                          for k, v in params.items())
    if pybind_dump:  # a kernel's binding refused a setting (an int beyond C's range, ...)
        return TypeError(f"{op}(): invalid arguments ({described}){settings}")
    if isinstance(err, OverflowError):
        return ValueError(f"{op}(): an argument is too large{settings}: {err}")
    if isinstance(err, ZeroDivisionError):
        return ValueError(f"{op}(): an argument must not be zero{settings}")
    strange = [type(x).__name__ for x in operands
               if not (hasattr(x, "_array") or isinstance(x, _OPERAND_TYPES))]
    if strange or isinstance(err, AttributeError) or any(x is None for x in operands):
        return TypeError(f"{op}(): expected Tensors or numbers, got ({described})")
    return TypeError(f"{op}(): not supported for ({described}){settings}: {err}")


def op_name(function_class, params) -> str:
    """An autograd Function's public name: the kind it computes (Unary(kind='acos')) if set."""
    for key in ("op", "kind", "name"):
        value = params.get(key)
        if isinstance(value, str):
            return value
    return function_class.__name__.lower()
