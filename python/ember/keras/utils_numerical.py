"""keras.utils.normalize: scales vectors along ``axis`` to unit ``order``-norm."""
from __future__ import annotations

import numpy as np

from .ops import nn as nn_ops


def normalize(x, axis=-1, order=2):
    """NumPy in, NumPy out (a zero vector stays zero), as Keras does; a tensor goes through
    ``keras.ops.normalize`` (norms clamped at epsilon)."""
    if not isinstance(x, np.ndarray):
        return nn_ops.normalize(x, axis=axis, order=order)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    # Keras writes `axis or -1` here, which re-inserts axis 0's norms at the end; ember puts
    # them back where they were taken.
    return x / np.expand_dims(norm, axis)
