"""keras.ops: Keras 3's backend-agnostic ops, computed by ember (``from ember.keras import
ops``; ``ops.matmul``, ``ops.nn.softmax``, ``ops.image.resize`` ...).

Inputs may be ember Tensors, NumPy arrays or Python numbers; results are ember Tensors,
differentiable through ember's autograd, so custom layers and losses written with keras.ops
train. Control flow (cond, while_loop, fori_loop, ...) runs eagerly. Keras ops that ember does
not have raise NotImplementedError naming the op (see unsupported.py).
"""
from ..._public_errors import wrap_public_functions as _wrap_public_functions
from . import core, image, linalg, math, nn, numpy, statistics

# First: every op, wrapped where it is defined (so that ops.nn.softmax stays ops.softmax), raises
# a clear error naming it for a bad argument, never an internal one (issue 11).
for _module in (core, image, linalg, math, nn, numpy, statistics):
    _wrap_public_functions(vars(_module), _module.__name__, skip=())

from .core import (cast, cond, convert_to_numpy, convert_to_tensor, copy, dtype, fori_loop,
                   is_tensor, map, ndim, shape, size, slice, slice_update, stop_gradient, switch,
                   unstack, vectorized_map, while_loop)
from .linalg import norm
from .math import erf, in_top_k, logsumexp, rsqrt, segment_max, segment_sum, top_k
from .nn import *  # noqa: F401,F403  (Keras exposes every nn op at the top level)
from .numpy import *  # noqa: F401,F403
from .statistics import bincount, digitize, median, ptp, quantile, searchsorted
from .unsupported import unsupported_op


def __getattr__(name):
    raise unsupported_op(name)
