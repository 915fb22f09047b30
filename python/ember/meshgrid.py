"""ember.meshgrid: coordinate grids from 1-D tensors, as expanded views (differentiable)."""
from __future__ import annotations

import warnings

from . import _core
from .functions import reshape
from .tensor import Tensor


def meshgrid(*tensors, indexing=None):
    """Grids of N 1-D (or 0-d) tensors, each of shape (len(t0), ..., len(tN-1)) for 'ij';
    'xy' swaps the first two dimensions (Cartesian indexing). indexing=None means 'ij' with
    PyTorch's warning that it will be required."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', but received: "
                         f"{indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expects a non-empty TensorList")
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim > 1:
            shapes = [tuple(getattr(x, "shape", ())) for x in tensors]
            raise _core.ShapeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but "
                                   f"got shapes {shapes}")
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError(f"meshgrid expects all tensors to have the same dtype, got "
                        f"{[t.dtype for t in tensors]}")
    axis_of = list(range(len(tensors)))  # the grid axis along which tensor k varies
    if indexing == "xy" and len(tensors) > 1:
        axis_of[0], axis_of[1] = 1, 0
    shape = [0] * len(tensors)
    for k, t in enumerate(tensors):
        shape[axis_of[k]] = t.numel()
    grids = []
    for k, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[axis_of[k]] = -1
        grids.append(reshape(t, *view).expand(*shape))
    return tuple(grids)
