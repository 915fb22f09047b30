"""The part of ember.Tensor's API that tensor_methods.py does not attach: the methods of
math_functions.py (t.log1p()), arrange_functions.py (t.repeat(), t.flip()), linalg_functions.py
(t.dot()) and sampling.py (t.multinomial()); in-place forms (t.log1p_(), t.sqrt_(), t.tril_());
the operators %, //, bitwise and shifts with their reflected and augmented forms, **=, `in`,
reversed() and complex(); the
random fills of tensor_random.py; new_zeros/new_tensor/half/byte/... of tensor_new.py."""
import numpy as np

from . import arrange_functions as A, functions as F, math_functions as M
from . import combine_functions as C, linalg_functions as L, sampling
from . import creation, tensor_new, tensor_random
from ._public_errors import tensor_argument
from .functions import _size_args
from .inplace import inplace_method
from .tensor import Tensor


def _reflected(fn):
    def method(self, other):
        return fn(F._operand(other), self)
    return method


_BINARY = {  # operator name -> function(input, other)
    "floordiv": M.floor_divide, "mod": M.remainder, "and": M.bitwise_and, "or": M.bitwise_or,
    "xor": M.bitwise_xor, "lshift": M.bitwise_left_shift, "rshift": M.bitwise_right_shift,
}

def _contains(self, element):
    """`element in t`: whether any element of t equals it (a number or a tensor)."""
    if not isinstance(element, (Tensor, int, float, bool, np.number, np.bool_)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed "
                           f"in a {type(element)}.")
    return bool(np.any(F.eq(self, element)._array))


def _reversed(self):
    """reversed(t): t flipped along its first dimension (a 0-d tensor stays as it is)."""
    return self if self.ndim == 0 else A.flip(self, 0)


OPERATORS = {"__contains__": _contains, "__reversed__": _reversed,
             "__complex__": lambda self: complex(self.item()),
             "__invert__": M.bitwise_not, "__div__": F.div, "__rdiv__": _reflected(F.div),
             "__idiv__": inplace_method("__idiv__", F.div),
             "__ipow__": inplace_method("__ipow__", F.pow)}
for _op, _fn in _BINARY.items():
    OPERATORS[f"__{_op}__"] = _fn
    OPERATORS[f"__r{_op}__"] = _reflected(_fn)
    OPERATORS[f"__i{_op}__"] = inplace_method(f"__i{_op}__", _fn)

# In-place methods: name_ computes name(self, ...) out of place and assigns it to self.
_INPLACE = {
    "log": F.log, "sqrt": F.sqrt, "abs": F.abs, "sin": F.sin, "cos": F.cos, "square": F.square,
    "clip": F.clamp, "clamp_min": M.clamp_min, "clamp_max": M.clamp_max,
    "floor": F.floor, "ceil": M.ceil, "trunc": M.trunc, "fix": M.trunc, "round": F.round,
    "sign": F.sign, "frac": M.frac, "log1p": M.log1p, "expm1": M.expm1, "log2": M.log2,
    "log10": M.log10, "rsqrt": M.rsqrt, "reciprocal": M.reciprocal, "erf": M.erf, "tan": M.tan,
    "sinh": M.sinh, "cosh": M.cosh, "asin": M.asin, "acos": M.acos, "atan": M.atan,
    "arcsin": M.asin, "arccos": M.acos, "arctan": M.atan,
    "exp2": M.exp2, "lerp": M.lerp, "addmm": M.addmm, "remainder": M.remainder,
    "fmod": M.fmod, "floor_divide": M.floor_divide, "true_divide": M.true_divide,
    "divide": M.divide, "multiply": M.multiply, "subtract": M.subtract, "negative": M.negative,
    "absolute": M.absolute, "bitwise_and": M.bitwise_and, "bitwise_or": M.bitwise_or,
    "bitwise_xor": M.bitwise_xor, "bitwise_not": M.bitwise_not,
    "bitwise_left_shift": M.bitwise_left_shift, "bitwise_right_shift": M.bitwise_right_shift,
    "tril": A.tril, "triu": A.triu, "logit": M.logit, "sinc": M.sinc, "deg2rad": M.deg2rad,
    "rad2deg": M.rad2deg, "nan_to_num": M.nan_to_num, "atan2": M.atan2, "arctan2": M.atan2,
    "hypot": M.hypot, "xlogy": M.xlogy, "erfc": M.erfc, "asinh": M.asinh, "acosh": M.acosh,
    "atanh": M.atanh, "arcsinh": M.asinh, "arccosh": M.acosh, "arctanh": M.atanh,
    "copysign": M.copysign, "float_power": M.float_power, "heaviside": M.heaviside,
    "sgn": M.sgn, "addcmul": M.addcmul, "addcdiv": M.addcdiv, "addmv": M.addmv, "addr": M.addr,
    "baddbmm": M.baddbmm, "addbmm": M.addbmm, "logical_and": F.logical_and,
    "logical_or": F.logical_or, "logical_xor": F.logical_xor, "logical_not": F.logical_not,
    "eq": F.eq, "ne": F.ne, "lt": F.lt, "le": F.le, "gt": F.gt, "ge": F.ge, "greater": F.gt,
    "less": F.lt, "greater_equal": F.ge, "less_equal": F.le, "not_equal": F.ne,
}
OPERATORS.update({f"{name}_": inplace_method(f"{name}_", fn) for name, fn in _INPLACE.items()})
OPERATORS.update({name: fn for name, fn in _INPLACE.items() if not hasattr(Tensor, name)})
OPERATORS.update(tensor_random.METHODS)
OPERATORS.update(tensor_new.METHODS)
OPERATORS.update({fn.__name__: fn for fn in (
    A.repeat, A.repeat_interleave, A.flip, A.fliplr, A.flipud, A.roll, A.narrow, A.diag,
    A.diagonal, A.diag_embed, A.rot90, A.trace, L.dot, L.mv, L.outer, L.cross, L.inner, L.kron,
    sampling.multinomial, C.broadcast_to)})
# Aliases (their __name__ is dot's and outer's), and methods without an in-place form.
OPERATORS.update({"vdot": L.vdot, "ger": L.ger, "logaddexp": M.logaddexp,
                  "logaddexp2": M.logaddexp2, "positive": M.positive, "signbit": M.signbit,
                  "isposinf": M.isposinf, "isneginf": M.isneginf, "isreal": M.isreal,
                  "isclose": F.isclose, "bernoulli": creation.bernoulli})
# Metadata.
OPERATORS.update({
    "is_signed": lambda self: self._array.dtype.kind in "if",
    "is_nonzero": lambda self: bool(self),
    "is_same_size": lambda self, other: self.shape == tensor_argument("is_same_size", "other",
                                                                      other).shape,
    "nbytes": property(lambda self: self._array.nbytes),
    "itemsize": property(lambda self: self._array.itemsize),
})
OPERATORS["tile"] = lambda self, *dims: A.tile(self, _size_args(dims))

for _name, _method in OPERATORS.items():
    setattr(Tensor, _name, _method)
