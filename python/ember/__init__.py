"""ember: a small, fast deep-learning library for CPUs.

`import ember as torch` gives the PyTorch face (tensors, autograd, ember.nn, ember.optim);
`from ember import keras` gives the Keras face built on the same engine.
"""
from __future__ import annotations

import builtins
import importlib
from math import e, inf, nan, pi

from . import _allocator, _core  # noqa: F401  (_allocator: keeps step memory mapped)
from ._core import IndexOutOfRangeError, ShapeError
from ._bounds import OutOfMemoryError  # torch.OutOfMemoryError: a tensor too large to allocate
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .dtypes import (bool_ as bool, dtype, float16, float32, float64, int8, int16, int32, int64,
                     uint8)
from .tensor import Size, Tensor
from . import tensor_methods as _tensor_methods  # noqa: F401  (attaches the tensor API)
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, normal, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .functions import (abs, add, allclose, amax, amin, argmax, argmin, bmm, cat, chunk, clamp,
                        clip, concat, concatenate, cos, div, eq, equal, exp, flatten, floor, ge,
                        gt, isclose, isfinite, isinf, isnan, le, log, log_softmax, logical_and,
                        logical_not, logical_or, logical_xor, logsumexp, lt, matmul, max,
                        maximum, mean, min, minimum, mm, mul, ne, neg, numel, permute, pow, prod,
                        relu, reshape, round, sigmoid, sign, sin, softmax, split, sqrt, square,
                        squeeze, stack, std, sub, sum, swapaxes, t, tanh, transpose, unflatten,
                        unsqueeze, var, where)
from .logical_reductions import all, any
from .sorting import argsort, kthvalue, median, mode, msort, nanmedian, sort, topk
from .nan_reductions import nanmean, nansum
from .indexing import (argwhere, gather, index_select, masked_fill, masked_select, nonzero,
                       scatter, scatter_add, scatter_reduce, take)
from .index_updates import index_add, index_copy, index_fill
from .cumulative import cummax, cummin, cumprod, cumsum
from .counting import bincount, count_nonzero, unique, unique_consecutive
from .searching import bucketize, searchsorted
from .linalg import tensor_norm as norm
from . import linalg, return_types
from .math_functions import (absolute, acos, acosh, addbmm, addcdiv, addcmul, addmm, addmv,
                             addr, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
                             asin, asinh, atan, atan2, atanh, baddbmm, bitwise_and,
                             bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                             bitwise_xor, ceil, clamp_max, clamp_min, copysign, cosh, deg2rad,
                             divide, erf, erfc, exp2, expm1, fix, float_power, floor_divide, fmod,
                             frac, heaviside, hypot, isneginf, isposinf, isreal, lerp, log10,
                             log1p, log2, logaddexp, logaddexp2, logit, multiply, nan_to_num,
                             negative, positive, rad2deg, reciprocal, remainder, rsqrt, sgn,
                             signbit, sinc, sinh, subtract, tan, true_divide, trunc, xlogy)
from .arrange_functions import (diag, diag_embed, diagonal, flip, fliplr, flipud, narrow,
                                repeat_interleave, roll, rot90, tile, trace, tril, triu)
from .combine_functions import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes,
                                broadcast_tensors, broadcast_to, cartesian_prod, column_stack,
                                dstack, hstack, row_stack, vstack)
from .linalg_functions import (cross, dot, einsum, ger, inner, kron, mv, outer, tensordot,
                               vdot)
from .meshgrid import meshgrid
from .sampling import multinomial
from .build_config import show_config
from ._compile import compile  # noqa: A004  (PyTorch's name)
from ._device import device
from .legacy_tensors import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                             HalfTensor, IntTensor, LongTensor, ShortTensor)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from . import autograd  # noqa: E402

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16

__version__ = "0.1.0"

# Loaded on first use (`ember.nn.Linear`, `import ember.nn as nn`, `from ember import optim`), so
# `import ember` stays fast.
_LAZY_SUBMODULES = ("nn", "optim", "serialization", "keras", "datasets", "testing", "utils",
                    "cuda", "backends", "accelerator", "onnx", "distributed", "viz")


def set_num_threads(n: int) -> None:
    """Sets the number of threads every ember kernel (OpenMP loops and Eigen products) uses."""
    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    return _core.get_num_threads()


def save(obj, f) -> None:
    """Saves `obj` to a path (atomically) or a binary file object: see ember.serialization.save."""
    from .serialization import save as save_
    save_(obj, f)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Loads what ember.save wrote: see ember.serialization.load."""
    from .serialization import load as load_
    return load_(f, map_location, pickle_module, weights_only=weights_only, mmap=mmap)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


# Last: public functions raise PyTorch's errors, never an internal one (issue 11).
from ._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__)
