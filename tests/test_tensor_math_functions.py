"""ember.log1p/expm1/log2/log10/rsqrt/reciprocal/erf/trigonometry/frac, remainder/fmod, lerp,
addmm and the zero-gradient rounding family: NumPy forward, float64 gradcheck, PyTorch parity of
forward and gradients on the same data (function and method forms), dtypes and grad_fn."""
import math

import numpy as np
import pytest

import ember
from ember.testing import assert_close
from op_cases import op_tests

rng = np.random.default_rng(11)


def away_from_integers(shape, lo=-3, hi=3):
    """No value within 0.1 of an integer: remainder/frac/floor are smooth there."""
    x = rng.uniform(lo, hi, shape)
    frac = x - np.floor(x)
    return np.where(np.abs(frac - 0.5) > 0.4, x + 0.3, x)


def positive(shape, lo=0.5, hi=2.0):
    return rng.uniform(lo, hi, shape)


def unit(shape):
    return rng.uniform(-0.9, 0.9, shape)


_ERF = np.vectorize(math.erf)

# name -> (fn(module, *tensors), NumPy reference, inputs as (array, differentiable))
CASES = {
    "log1p": (lambda m, x: m.log1p(x), np.log1p, [(positive((3, 4), -0.5, 2.0), True)]),
    "expm1": (lambda m, x: x.expm1(), np.expm1, [(unit((3, 4)), True)]),
    "log2": (lambda m, x: m.log2(x), np.log2, [(positive((2, 5)), True)]),
    "log10": (lambda m, x: x.log10(), np.log10, [(positive((2, 5)), True)]),
    "rsqrt": (lambda m, x: m.rsqrt(x), lambda x: 1 / np.sqrt(x), [(positive((4,)), True)]),
    "reciprocal": (lambda m, x: x.reciprocal(), np.reciprocal, [(positive((3, 3)), True)]),
    "erf": (lambda m, x: m.erf(x), _ERF, [(rng.uniform(-2.5, 2.5, (3, 4)), True)]),
    "tan": (lambda m, x: m.tan(x), np.tan, [(unit((5,)), True)]),
    "sinh": (lambda m, x: x.sinh(), np.sinh, [(unit((5,)), True)]),
    "cosh": (lambda m, x: m.cosh(x), np.cosh, [(unit((5,)), True)]),
    "asin": (lambda m, x: m.asin(x), np.arcsin, [(unit((5,)), True)]),
    "acos": (lambda m, x: x.acos(), np.arccos, [(unit((5,)), True)]),
    "atan": (lambda m, x: m.arctan(x), np.arctan, [(rng.uniform(-3, 3, (5,)), True)]),
    "exp2": (lambda m, x: m.exp2(x), np.exp2, [(unit((5,)), True)]),
    "frac": (lambda m, x: m.frac(x), lambda x: x - np.trunc(x),
             [(away_from_integers((3, 4)), True)]),
    "logit": (lambda m, x: m.logit(x), lambda x: np.log(x / (1 - x)),
              [(rng.uniform(0.1, 0.9, (3, 4)), True)]),
    "logit_eps": (lambda m, x: x.logit(eps=0.2), lambda x: (lambda c: np.log(c / (1 - c)))(
        np.clip(x, 0.2, 0.8)), [(np.array([0.05, 0.3, 0.5, 0.7, 0.95]), True)]),
    "sinc": (lambda m, x: m.sinc(x), np.sinc, [(np.array([-1.3, -0.4, 0.0, 0.6, 2.2]), True)]),
    "deg2rad": (lambda m, x: m.deg2rad(x), np.deg2rad, [(rng.uniform(-180, 180, 5), True)]),
    "rad2deg": (lambda m, x: x.rad2deg(), np.rad2deg, [(unit((5,)), True)]),
    "nan_to_num": (lambda m, x: m.nan_to_num(m.where(
        m.tensor([True, False, True, False]), x,
        m.tensor([0.0, float("inf"), 0.0, -float("inf")], dtype=m.float64))),
        lambda x: np.nan_to_num(np.where([True, False, True, False], x, [0, np.inf, 0, -np.inf])),
        [(np.array([0.5, 2.0, -1.5, 3.0]), True)]),
    "nan_to_num_values": (lambda m, x: x.log().nan_to_num(nan=-1.0, posinf=9.0, neginf=-9.0),
                          lambda x: np.nan_to_num(np.log(x), nan=-1.0, posinf=9.0, neginf=-9.0),
                          [(np.array([0.5, 2.0, 1.5]), True)]),
    "atan2": (lambda m, y, x: m.atan2(y, x), np.arctan2,
              [(unit((3, 4)), True), (np.array([-1.2, -0.3, 0.4, 1.5]), True)]),
    "arctan2_method": (lambda m, y, x: y.arctan2(x), np.arctan2,
                       [(unit((4,)), True), (positive((3, 1)), True)]),
    "hypot": (lambda m, x, y: m.hypot(x, y), np.hypot, [(unit((3, 4)), True), (unit((4,)), True)]),
    "logaddexp": (lambda m, x, y: m.logaddexp(x, y), np.logaddexp,
                  [(rng.uniform(-3, 3, (3, 4)), True), (rng.uniform(-3, 3, (3, 1)), True)]),
    "xlogy": (lambda m, x, y: m.xlogy(x, y), lambda x, y: x * np.log(y),
              [(unit((3, 4)), True), (positive((4,)), True)]),
    "xlogy_scalar_other": (lambda m, x: x.xlogy(3.0), lambda x: x * np.log(3.0),
                           [(unit((4,)), True)]),
    "erfc": (lambda m, x: m.erfc(x), lambda x: 1 - _ERF(x), [(rng.uniform(-2, 2, (3, 4)), True)]),
    "asinh": (lambda m, x: m.asinh(x), np.arcsinh, [(rng.uniform(-3, 3, 5), True)]),
    "acosh": (lambda m, x: x.acosh(), np.arccosh, [(rng.uniform(1.2, 3, 5), True)]),
    "atanh": (lambda m, x: m.arctanh(x), np.arctanh, [(unit((5,)), True)]),
    "logaddexp2": (lambda m, x, y: m.logaddexp2(x, y), np.logaddexp2,
                   [(rng.uniform(-3, 3, (3, 4)), True), (rng.uniform(-3, 3, 4), True)]),
    "copysign": (lambda m, x, y: m.copysign(x, y), np.copysign,
                 [(unit((3, 4)), True), (np.array([-1.0, 2.0, -0.5, 3.0]), True)]),
    "float_power": (lambda m, x, y: m.float_power(x, y), np.power,
                    [(positive((3, 4)), True), (unit((4,)), True)]),
    "float_power_scalar": (lambda m, x: x.float_power(2), np.square, [(unit((4,)), True)]),
    "addcmul": (lambda m, x, a, b: m.addcmul(x, a, b, value=-0.5),
                lambda x, a, b: x - 0.5 * a * b, [(unit((3, 4)), True), (unit((4,)), True),
                                                  (unit((3, 1)), True)]),
    "addcdiv": (lambda m, x, a, b: x.addcdiv(a, b, value=2),
                lambda x, a, b: x + 2 * a / b, [(unit((3, 4)), True), (unit((3, 4)), True),
                                                (positive((4,)), True)]),
    "addmv": (lambda m, x, a, v: m.addmv(x, a, v, beta=0.5, alpha=2),
              lambda x, a, v: 0.5 * x + 2 * a @ v, [(unit((3,)), True), (unit((3, 4)), True),
                                                    (unit((4,)), True)]),
    "addr": (lambda m, x, a, b: x.addr(a, b), lambda x, a, b: x + np.outer(a, b),
             [(unit((3, 4)), True), (unit((3,)), True), (unit((4,)), True)]),
    "baddbmm": (lambda m, x, a, b: m.baddbmm(x, a, b, alpha=-1),
                lambda x, a, b: x - a @ b, [(unit((2, 3, 2)), True), (unit((2, 3, 4)), True),
                                            (unit((2, 4, 2)), True)]),
    "addbmm": (lambda m, x, a, b: x.addbmm(a, b, beta=2),
               lambda x, a, b: 2 * x + (a @ b).sum(0), [(unit((3, 2)), True),
                                                        (unit((2, 3, 4)), True),
                                                        (unit((2, 4, 2)), True)]),
    "remainder_tensors": (lambda m, x, y: m.remainder(x, y), np.mod,
                          [(away_from_integers((3, 4), -6, 6), True), (positive((4,), 0.7, 1.9),
                                                                       True)]),
    "remainder_negative_divisor": (lambda m, x, y: x.remainder(y), np.mod,
                                   [(rng.uniform(0.1, 0.9, (2, 3)) + np.arange(3), True),
                                    (np.array([-1.3, -1.7, -2.9]), True)]),
    "mod_operator_scalar": (lambda m, x: x % 1.5, lambda x: np.mod(x, 1.5),
                            [(np.array([-2.9, -0.4, 0.2, 1.7, 4.0]), True)]),
    "rmod_operator": (lambda m, x: 5.0 % x, lambda x: np.mod(5.0, x),
                      [(np.array([-2.2, -1.3, 1.2, 2.2]), True)]),
    "fmod_tensors": (lambda m, x, y: m.fmod(x, y), np.fmod,
                     [(away_from_integers((3, 4), -6, 6), True), (positive((3, 1), 0.7, 1.9),
                                                                  True)]),
    "fmod_scalar": (lambda m, x: x.fmod(-1.5), lambda x: np.fmod(x, -1.5),
                    [(np.array([-2.9, -0.4, 0.2, 1.7, 4.0]), True)]),
    "lerp_scalar_weight": (lambda m, x, y: m.lerp(x, y, 0.3), lambda x, y: x + 0.3 * (y - x),
                           [(unit((3, 4)), True), (unit((3, 4)), True)]),
    "lerp_tensor_weight": (lambda m, x, y, w: x.lerp(y, w), lambda x, y, w: x + w * (y - x),
                           [(unit((3, 4)), True), (unit((4,)), True), (unit((3, 1)), True)]),
    # weights >= 1/2 take PyTorch's other form, end - (end - input) * (1 - weight)
    "lerp_scalar_weight_above_half": (lambda m, x, y: m.lerp(x, y, 0.75),
                                      lambda x, y: x + 0.75 * (y - x),
                                      [(unit((3, 4)), True), (unit((3, 4)), True)]),
    "lerp_tensor_weight_both_forms": (lambda m, x, y, w: x.lerp(y, w),
                                      lambda x, y, w: x + w * (y - x),
                                      [(unit((3, 4)), True), (unit((4,)), True),
                                       (np.array([-0.9, 0.2, 0.5, 1.4]), True)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b), lambda c, a, b: c + a @ b,
              [(unit((3,)), True), (unit((2, 4)), True), (unit((4, 3)), True)]),
    "addmm_alpha_beta": (lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=-2.0),
                         lambda c, a, b: 0.5 * c - 2.0 * (a @ b),
                         [(unit((2, 3)), True), (unit((2, 4)), True), (unit((4, 3)), True)]),
    "floor": (lambda m, x: m.floor(x) * x, lambda x: np.floor(x) * x,
              [(away_from_integers((6,)), True)]),
    "ceil": (lambda m, x: x.ceil() * x, lambda x: np.ceil(x) * x,
             [(away_from_integers((6,)), True)]),
    "trunc": (lambda m, x: m.trunc(x) + x, lambda x: np.trunc(x) + x,
              [(away_from_integers((6,)), True)]),
    "fix": (lambda m, x: m.fix(x) * 2, lambda x: np.trunc(x) * 2,
            [(away_from_integers((6,)), True)]),
    "round": (lambda m, x: x.round() * x, lambda x: np.round(x) * x,
              [(away_from_integers((6,)), True)]),
    "round_decimals": (lambda m, x: m.round(x, decimals=1), lambda x: np.round(x, 1),
                       [(np.array([0.123, -1.456, 2.789]), True)]),
    "sign": (lambda m, x: x.sign() * x, lambda x: np.sign(x) * x,
             [(away_from_integers((6,)), True)]),
    "aliases": (lambda m, x, y: m.subtract(m.multiply(x, y), m.divide(x, y), alpha=2)
                + m.negative(m.absolute(x)) + m.true_divide(x, 3),
                lambda x, y: x * y - 2 * (x / y) - np.abs(x) + x / 3,
                [(unit((3,)), True), (positive((3,)), True)]),
    "clamp_min_max": (lambda m, x: m.clamp_min(x, -0.3) + x.clamp_max(0.4),
                      lambda x: np.maximum(x, -0.3) + np.minimum(x, 0.4),
                      [(np.array([-0.8, -0.1, 0.2, 0.7]), True)]),
}

# PyTorch implements no derivative for remainder(Scalar, Tensor): compare the forward only.
FORWARD_ONLY_IN_PYTORCH = {"rmod_operator"}


(test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
 test_float32_agrees_with_float64) = op_tests(
    CASES, forward_only_in_pytorch=FORWARD_ONLY_IN_PYTORCH,
    float64_only={"nan_to_num", "float_power", "float_power_scalar"})  # float64 by design


def test_rounding_functions_are_in_the_graph_with_zero_gradient_like_pytorch():
    torch = pytest.importorskip("torch")
    for name in ("floor", "ceil", "trunc", "round", "sign", "frac"):
        x = ember.tensor([1.3, -2.7], requires_grad=True)
        y = getattr(ember, name)(x)
        assert y.requires_grad and y.grad_fn.name == name.title() + "Backward"
        y.sum().backward()
        tx = torch.tensor([1.3, -2.7], requires_grad=True)
        getattr(torch, name)(tx).sum().backward()
        assert x.grad.tolist() == tx.grad.tolist(), name


@pytest.mark.parametrize("name, dtype", [
    (name, dtype) for name in ("floor", "ceil", "trunc", "round", "sign", "log1p", "erf", "rsqrt",
                               "reciprocal", "frac")
    for dtype in ("int64", "int32", "float32")
    if name != "frac" or dtype == "float32"])  # PyTorch's frac takes floating point only
def test_result_dtypes_match_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    data = [1, 4, 9]
    ours = getattr(ember, name)(ember.tensor(data, dtype=getattr(ember, dtype)))
    theirs = getattr(torch, name)(torch.tensor(data, dtype=getattr(torch, dtype)))
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    assert_close(ours, theirs.numpy())


@pytest.mark.parametrize("make", [
    lambda m: m.remainder(m.tensor([-7, 7, 5]), 3),
    lambda m: m.tensor([-7, 7, 5]) % m.tensor([3, -3, 2]),
    lambda m: m.fmod(m.tensor([-7, 7, 5]), 3),
    lambda m: m.tensor([-7.5, 7.25]) % 2,
    lambda m: m.floor_divide(m.tensor([-7, 7, 5]), 2),
    lambda m: m.tensor([-7, 7, 5]) // m.tensor([2, -2, 3]),
    lambda m: m.tensor([-7.0, 7.0]) // 2,
    lambda m: m.tensor([-7, 7]) // 2.5,
    lambda m: 7 // m.tensor([2, -3]),
    lambda m: 7.5 // m.tensor([2.0, -3.0]),
    lambda m: 7 % m.tensor([2, -3]),
], ids=["remainder_int", "mod_int_tensors", "fmod_int", "mod_float_int", "floor_divide",
        "floordiv_tensors", "floordiv_float", "floordiv_int_by_float", "rfloordiv_int",
        "rfloordiv_float", "rmod_int"])
def test_integer_division_family_values_and_dtypes_match_pytorch(make):
    torch = pytest.importorskip("torch")
    ours, theirs = make(ember), make(torch)
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    assert ours.tolist() == theirs.tolist()


def test_lerp_and_addmm_reject_bad_input():
    with pytest.raises(TypeError, match="lerp"):
        ember.lerp(ember.ones(2), 1.0, 0.5)
    with pytest.raises(TypeError, match="lerp: expected dtype ember.float32 for `end`"):
        ember.lerp(ember.ones(2), ember.ones(2, dtype=ember.float64), 0.5)
    with pytest.raises(TypeError, match="lerp: expected dtype ember.float32 for `weight`"):
        ember.lerp(ember.ones(2), ember.ones(2), ember.ones(2, dtype=ember.float64))
    with pytest.raises(TypeError, match="lerp: expected a floating point input"):
        ember.lerp(ember.ones(2, dtype=ember.int64), ember.ones(2, dtype=ember.int64), 0.5)
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 3\)"):
        ember.addmm(ember.ones(2, 2), ember.ones(2, 3), ember.ones(2, 3))


def test_addmm_with_beta_zero_ignores_nan_input_like_pytorch():
    out = ember.addmm(ember.full((2, 2), float("nan")), ember.ones(2, 3), ember.ones(3, 2),
                      beta=0)
    assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]


@pytest.mark.parametrize("call", [lambda: ember.tensor([5, 3]) % 0,
                                  lambda: ember.tensor([5, 3]) // ember.tensor([1, 0]),
                                  lambda: ember.fmod(ember.tensor([5]), 0),
                                  lambda: ember.remainder(7, ember.tensor([0]))])
def test_integer_division_by_zero_raises_like_pytorch(call):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        call()


def test_division_family_of_two_bool_tensors_raises_like_pytorch():
    a = ember.tensor([True, False])
    for call in (lambda: a % a, lambda: a // a, lambda: ember.fmod(a, True)):
        with pytest.raises(TypeError, match="two bool tensors"):
            call()


def test_float_remainder_by_zero_is_nan_like_pytorch():
    out = ember.tensor([5.0, -1.0]) % 0
    assert np.isnan(out.numpy()).all()


def test_frac_of_integers_raises_like_pytorch():
    with pytest.raises(TypeError, match=r"frac: expected a floating point tensor.*int64"):
        ember.frac(ember.tensor([1, 2]))


def test_xlogy_is_zero_where_x_is_zero_even_at_y_zero_like_pytorch():
    torch = pytest.importorskip("torch")
    x, y = [0.0, 0.0, 1.0, 0.0], [0.0, float("nan"), 0.0, 2.0]
    ours = ember.xlogy(ember.tensor(x), ember.tensor(y)).tolist()
    theirs = torch.xlogy(torch.tensor(x), torch.tensor(y)).tolist()
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
                                  "copysign"])
def test_binary_math_dtypes_match_pytorch(name):
    torch = pytest.importorskip("torch")
    if name in ("hypot", "logaddexp", "logaddexp2"):  # PyTorch has them for floating point only
        with pytest.raises(TypeError, match=f"{name}: not implemented for integer operands"):
            getattr(ember, name)(ember.tensor([1, 2]), ember.tensor([3, 4]))
        with pytest.raises(NotImplementedError):
            getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([3, 4]))
    else:
        ours = getattr(ember, name)(ember.tensor([1, 2]), ember.tensor([3, 4]))
        theirs = getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([3, 4]))
        assert ours.dtype == ember.float32 and theirs.dtype == torch.float32
        assert_close(ours, theirs.numpy())
    for make in (lambda m: (m.tensor([1.0, 2.0]), m.tensor(3.0, dtype=m.float64)),
                 lambda m: (m.tensor([1, 2]), m.tensor(3.0, dtype=m.float64)),
                 lambda m: (m.tensor([1.0, 2.0], dtype=m.float64), m.tensor([3.0, 4.0]))):
        ours = getattr(ember, name)(*make(ember))
        theirs = getattr(torch, name)(*make(torch))
        assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1]), name
        assert_close(ours, theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_float_power_is_float64_like_pytorch():
    assert ember.float_power(ember.tensor([1, 2]), 2).dtype == ember.float64
    assert ember.float_power(ember.ones(2), ember.ones(2)).dtype == ember.float64


@pytest.mark.parametrize("make", [
    lambda m: m.heaviside(m.tensor([-1.0, 0.0, 2.0]), m.tensor([0.5])),
    lambda m: m.sgn(m.tensor([-2, 0, 3])), lambda m: m.tensor([-2.0, 0.0]).sgn(),
    lambda m: m.positive(m.tensor([1, -2])), lambda m: m.signbit(m.tensor([-0.0, 1.0, -2.0])),
    lambda m: m.isposinf(m.tensor([1.0, float("inf"), -float("inf")])),
    lambda m: m.tensor([1.0, float("inf"), -float("inf")]).isneginf(),
    lambda m: m.isreal(m.tensor([1.0, 2.0])),
    lambda m: m.erfc(m.tensor([5.0, 10.0], dtype=m.float64)),
], ids=["heaviside", "sgn_int", "sgn_method", "positive", "signbit", "isposinf", "isneginf",
        "isreal", "erfc_tail"])
def test_non_differentiable_math_matches_pytorch(make):
    torch = pytest.importorskip("torch")
    ours, theirs = make(ember), make(torch)
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    assert_close(ours, theirs.numpy(), rtol=1e-12, atol=0)


def test_heaviside_needs_matching_dtypes():
    with pytest.raises(TypeError, match="heaviside: expected input and values to have the same"):
        ember.heaviside(ember.tensor([1.0]), ember.tensor([1]))


def test_lerp_at_weight_one_gives_end_exactly_as_pytorch():
    """The second form makes lerp(a, b, 1) == b exactly (a + 1 * (b - a) need not be); PyTorch's
    kernel fuses the multiply-add, so elsewhere the two agree to rounding, not bit for bit."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, y = (rng.standard_normal(1000) * 10.0 ** rng.integers(-6, 6, 1000)).astype(np.float32), \
        rng.standard_normal(1000).astype(np.float32)
    np.testing.assert_array_equal(ember.lerp(ember.tensor(x), ember.tensor(y), 1.0).numpy(), y)
    a = rng.standard_normal(1000).astype(np.float32)  # (magnitudes like y's: no cancellation)
    for weight in (0.001, 0.3, 0.5, 0.75, 0.999):
        np.testing.assert_allclose(
            ember.lerp(ember.tensor(a), ember.tensor(y), weight).numpy(),
            torch.lerp(torch.tensor(a), torch.tensor(y), weight).numpy(), rtol=1e-6, atol=1e-6)
