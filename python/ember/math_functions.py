"""ember.* math functions beyond functions.py: log1p, expm1, log2, log10, rsqrt, reciprocal, erf,
erfc, trigonometry, logit, sinc, nan_to_num, atan2, hypot, logaddexp(2), xlogy, copysign,
float_power, ceil/trunc, remainder/fmod/floor_divide, lerp, addmm/addmv/addr/baddbmm/addbmm,
addcmul/addcdiv, heaviside, signbit, the bitwise and shift operations, and PyTorch's alias
names (multiply, divide, subtract, sgn, positive, ...)."""
from __future__ import annotations

import numpy as np

from . import functions as F, linalg_functions as L
from .ops._broadcast import torch_dtype
from .ops.binary_math import Binary, Remainder, check_integer_divisor
from .ops.unary_math import NanToNum, Rounding, Unary
from .tensor import Tensor


def _unary(kind):
    def fn(input):
        return Unary.apply(input, kind=kind)
    fn.__name__ = kind
    fn.__doc__ = f"Elementwise {kind}; integer input gives float32, as in PyTorch."
    return fn


(log1p, expm1, log2, log10, rsqrt, reciprocal, erf, erfc, tan, sinh, cosh, asin, acos, atan,
 asinh, acosh, atanh, exp2, frac, sinc, deg2rad, rad2deg) = (_unary(k) for k in (
    "log1p", "expm1", "log2", "log10", "rsqrt", "reciprocal", "erf", "erfc", "tan", "sinh",
    "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "exp2", "frac", "sinc",
    "deg2rad", "rad2deg"))
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def logit(input, eps=None):
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps] (zero gradient
    outside, as in PyTorch)."""
    if eps is not None:
        input = F.clamp(input, eps, 1.0 - eps)
    return Unary.apply(input, kind="logit")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest and smallest)."""
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def _binary(kind, doc):
    def fn(input, other):
        return Binary.apply(F._operand(input), F._operand(other), kind=kind)
    fn.__name__, fn.__doc__ = kind, doc
    return fn


atan2 = _binary("atan2", "The angle of the point (other, input): arctan(input / other) in the "
                         "right quadrant.")
arctan2 = atan2
hypot = _binary("hypot", "sqrt(input**2 + other**2), without overflow.")
logaddexp = _binary("logaddexp", "log(exp(input) + exp(other)), without overflow.")
xlogy = _binary("xlogy", "input * log(other), and 0 where input is 0 (unless other is nan).")
logaddexp2 = _binary("logaddexp2", "log2(2**input + 2**other), without overflow.")
copysign = _binary("copysign", "|input| with the sign of other (its sign bit: -0.0 counts).")


def float_power(input, exponent):
    """input ** exponent computed in float64 (the result is float64), as in PyTorch."""
    as_double = [x.double() if isinstance(x, Tensor) else x for x in (input, exponent)]
    return F.pow(*as_double)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return input + (tensor1 * tensor2 if value == 1 else tensor1 * tensor2 * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    return input + (tensor1 / tensor2 if value == 1 else tensor1 / tensor2 * value)


def _scaled_sum(input, product, beta, alpha):
    """beta * input + alpha * product; beta=0 ignores input (nan and inf in it too)."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, L.mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum(input, L.outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    return _scaled_sum(input, F.bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i]."""
    return _scaled_sum(input, F.sum(F.bmm(batch1, batch2), 0), beta, alpha)


def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0 (no gradient)."""
    a, v = F._arr(input), F._arr(values)
    if a.dtype != np.asarray(v).dtype:
        raise TypeError(f"heaviside: expected input and values to have the same dtype, got "
                        f"{a.dtype} and {np.asarray(v).dtype}")
    return F._wrap_const(np.heaviside(a, v).astype(a.dtype))


def sgn(input):
    """sign(input) for real tensors."""
    return F.sign(input)


def positive(input):
    return input


def signbit(input):
    return F._wrap_const(np.signbit(F._arr(input)))


def isposinf(input):
    return F._wrap_const(np.isposinf(F._arr(input)))


def isneginf(input):
    return F._wrap_const(np.isneginf(F._arr(input)))


def isreal(input):
    """True everywhere: ember has no complex dtype."""
    return F._wrap_const(np.ones(np.shape(F._arr(input)), bool))


def ceil(input):
    return Rounding.apply(input, kind="ceil")


def trunc(input):
    return Rounding.apply(input, kind="trunc")


fix = trunc


def remainder(input, other):
    """input - floor(input / other) * other: the sign of the divisor (Python's %)."""
    return Remainder.apply(F._operand(input), F._operand(other), kind="remainder")


def fmod(input, other):
    """input - trunc(input / other) * other: the sign of the dividend (C's fmod)."""
    return Remainder.apply(F._operand(input), F._operand(other), kind="fmod")


def floor_divide(input, other):
    """floor(input / other); like PyTorch, it has no gradient."""
    a, b = F._arr(F._operand(input)), F._arr(F._operand(other))
    check_integer_divisor("floor_divide", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.floor_divide(a, b)
    return F._wrap_const(torch_dtype(np.asarray(out), a, b))


def true_divide(dividend, divisor):
    return F.div(dividend, divisor)


def divide(input, other, *, rounding_mode=None):
    return F.div(input, other, rounding_mode=rounding_mode)


def multiply(input, other):
    return F.mul(input, other)


def subtract(input, other, *, alpha=1):
    return F.sub(input, other, alpha=alpha)


def negative(input):
    return F.neg(input)


def absolute(input):
    return F.abs(input)


def clamp_min(input, min):
    return F.clamp(input, min=min)


def clamp_max(input, max):
    return F.clamp(input, max=max)


def lerp(input, end, weight):
    """input + weight * (end - input); weight is a number or a tensor. As PyTorch computes it:
    for |weight| >= 1/2, end - (end - input) * (1 - weight), which rounds closer to end."""
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp: end must be a Tensor, got {type(end).__name__}")
    if not input.is_floating_point():
        raise TypeError(f"lerp: expected a floating point input, got dtype {input.dtype}")
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t.dtype != input.dtype:
            raise TypeError(f"lerp: expected dtype {input.dtype} for `{name}` but got dtype "
                            f"{t.dtype}")
    diff = end - input
    if isinstance(weight, Tensor):
        return F.where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    return input + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); with beta=0 input is ignored (nan and inf too)."""
    return _scaled_sum(input, F.mm(mat1, mat2), beta, alpha)


# ---- bitwise (integer and bool tensors; never differentiable) --------------------------------
def _bitwise(ufunc, name):
    def fn(input, other):
        a, b = F._arr(F._operand(input)), F._arr(F._operand(other))
        for x in (a, b):
            if np.asarray(x).dtype.kind not in "biu":
                raise TypeError(f"{name}: only integer and bool tensors are supported, got "
                                f"dtypes {np.asarray(a).dtype} and {np.asarray(b).dtype}")
        return F._wrap_const(torch_dtype(np.asarray(ufunc(a, b)), a, b))
    fn.__name__ = name
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")


def bitwise_not(input):
    a = F._arr(input)
    if a.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): only integer and bool tensors are supported, got "
                        f"dtype {a.dtype}")
    return F._wrap_const(np.invert(a))
