"""NumPy's errors re-raised as the exceptions PyTorch code catches, naming the op and shapes."""
from __future__ import annotations

import re

import numpy as np

from ._core import ShapeError

_BROADCAST_FAILURE = re.compile("could not (be )?broadcast")


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
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n
