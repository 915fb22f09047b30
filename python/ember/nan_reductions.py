"""nansum and nanmean: sum and mean that treat NaN as absent (its gradient is zero)."""
from __future__ import annotations

import numpy as np

from . import functions as F
from ._numpy_names import numpy_names
from .ops.reduce import reduction_axes


def _without_nan(input):
    """input with NaNs replaced by 0 (in the graph), and the mask of the kept values."""
    kept = ~np.isnan(input._array)
    return F.where(kept, input, 0.0), kept


@numpy_names
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if input._array.dtype.kind != "f":
        return F.sum(input, dim, keepdim, dtype=dtype)
    return F.sum(_without_nan(input)[0], dim, keepdim, dtype=dtype)


@numpy_names
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the values that are not NaN (NaN where there are none)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._array.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{input.dtype}")
    values, kept = _without_nan(input)
    count = np.asarray(np.sum(kept, axis=reduction_axes(dim, kept.ndim), keepdims=keepdim))
    # no division by a zero count: where there is nothing to average the result is NaN
    mean = F.div(F.sum(values, dim, keepdim), np.maximum(count, 1).astype(input._array.dtype))
    return F.where(count > 0, mean, np.asarray(np.nan, input._array.dtype))


TENSOR_METHODS = {"nansum": nansum, "nanmean": nanmean}
