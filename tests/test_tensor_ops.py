"""Tensor math: arithmetic with broadcasting and dtype promotion, comparisons, elementwise math,
reductions and matmul. Each differentiable case: NumPy forward, float64 gradcheck, PyTorch parity
of forward and gradients on the same data."""
import operator

import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(7)


def away_from_zero(shape, lo=-2, hi=2):
    x = rng.uniform(lo, hi, shape)
    return np.where(np.abs(x) < 0.2, x + 0.5, x)


def positive(shape):
    return rng.uniform(0.5, 2.0, shape)


def distinct(shape):
    """Values without ties, so max/min/clamp are differentiable everywhere on them."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.1 - 1.0 + rng.uniform(0, 0.01, shape)


# name -> (fn(mod, *tensors) using the ember / torch API, numpy reference fn(*arrays), inputs as
# a list of (array, differentiable))
def cases():
    a, b, c = away_from_zero((3, 1, 4)), away_from_zero((2, 4)), away_from_zero((3, 4))
    p, q = positive((3, 4)), rng.uniform(-1.5, 1.5, 4)
    x3 = distinct((2, 3, 4))
    return {
        # arithmetic with broadcasting and Python scalars on either side
        "add_broadcast": (lambda m, x, y: x + y, np.add, [(a, True), (b, True)]),
        "sub_broadcast": (lambda m, x, y: x - y, np.subtract, [(a, True), (b, True)]),
        "mul_broadcast": (lambda m, x, y: x * y, np.multiply, [(a, True), (b, True)]),
        "div_broadcast": (lambda m, x, y: x / y, np.divide, [(a, True), (b, True)]),
        "pow_tensor_tensor": (lambda m, x, y: x ** y, np.power, [(p, True), (q, True)]),
        "neg": (lambda m, x: -x, np.negative, [(c, True)]),
        "add_method_alpha": (lambda m, x, y: x.add(y, alpha=2), lambda x, y: x + 2 * y,
                             [(c, True), (b[0], True)]),
        "scalar_right": (lambda m, x: (x + 2) * 3 - 1.5, lambda x: (x + 2) * 3 - 1.5, [(c, True)]),
        "scalar_div": (lambda m, x: x / 4, lambda x: x / 4, [(c, True)]),
        "rsub": (lambda m, x: 2 - x, lambda x: 2 - x, [(c, True)]),
        "rdiv": (lambda m, x: 1 / x, lambda x: 1 / x, [(c, True)]),
        "rmul_radd": (lambda m, x: 3 * x + 1, lambda x: 3 * x + 1, [(c, True)]),
        "pow_scalar": (lambda m, x: x ** 2, lambda x: x ** 2, [(c, True)]),
        "pow_half": (lambda m, x: x ** 0.5, np.sqrt, [(p, True)]),
        "pow_negative": (lambda m, x: x ** -1.5, lambda x: x ** -1.5, [(p, True)]),
        "rpow": (lambda m, x: 2 ** x, lambda x: 2 ** x, [(c, True)]),
        # elementwise math
        "exp": (lambda m, x: m.exp(x), np.exp, [(c, True)]),
        "log": (lambda m, x: x.log(), np.log, [(p, True)]),
        "sqrt": (lambda m, x: m.sqrt(x), np.sqrt, [(p, True)]),
        "abs": (lambda m, x: x.abs(), np.abs, [(c, True)]),
        "abs_builtin": (lambda m, x: abs(x), np.abs, [(c, True)]),
        "sin": (lambda m, x: m.sin(x), np.sin, [(c, True)]),
        "cos": (lambda m, x: x.cos(), np.cos, [(c, True)]),
        "clamp_min": (lambda m, x: x.clamp(min=-0.5), lambda x: np.maximum(x, -0.5), [(c, True)]),
        "clamp_max": (lambda m, x: m.clamp(x, max=0.5), lambda x: np.minimum(x, 0.5), [(c, True)]),
        "clamp_both": (lambda m, x: x.clamp(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), [(c, True)]),
        "maximum": (lambda m, x, y: m.maximum(x, y), np.maximum,
                    [(distinct((3, 4)), True), (distinct((4,)), True)]),
        "minimum": (lambda m, x, y: m.minimum(x, y), np.minimum,
                    [(distinct((3, 4)), True), (distinct((3, 1)), True)]),
        "where": (lambda m, x, y: m.where(x > 0, x, y), lambda x, y: np.where(x > 0, x, y),
                  [(c, True), (b[:1], True)]),
        # reductions
        "sum_all": (lambda m, x: x.sum(), np.sum, [(x3, True)]),
        "sum_dim": (lambda m, x: x.sum(1), lambda x: x.sum(1), [(x3, True)]),
        "sum_neg_dim_keepdim": (lambda m, x: m.sum(x, -1, keepdim=True),
                                lambda x: x.sum(-1, keepdims=True), [(x3, True)]),
        "sum_tuple": (lambda m, x: x.sum((0, -1)), lambda x: x.sum((0, 2)), [(x3, True)]),
        "mean_all": (lambda m, x: x.mean(), np.mean, [(x3, True)]),
        "mean_tuple_keepdim": (lambda m, x: x.mean(dim=(0, 1), keepdim=True),
                               lambda x: x.mean((0, 1), keepdims=True), [(x3, True)]),
        "var_default": (lambda m, x: x.var(), lambda x: x.var(ddof=1), [(x3, True)]),
        "var_dim_unbiased_false": (lambda m, x: x.var(1, unbiased=False),
                                   lambda x: x.var(1), [(x3, True)]),
        "var_correction_keepdim": (lambda m, x: m.var(x, dim=-1, correction=2, keepdim=True),
                                   lambda x: x.var(-1, ddof=2, keepdims=True), [(x3, True)]),
        "std_default": (lambda m, x: x.std(), lambda x: x.std(ddof=1), [(x3, True)]),
        "std_tuple": (lambda m, x: m.std(x, (0, 2)), lambda x: x.std((0, 2), ddof=1), [(x3, True)]),
        "std_correction0": (lambda m, x: x.std(dim=1, correction=0), lambda x: x.std(1),
                            [(x3, True)]),
        "max_all": (lambda m, x: x.max(), np.max, [(x3, True)]),
        "min_all": (lambda m, x: m.min(x), np.min, [(x3, True)]),
        "max_dim_values": (lambda m, x: m.max(x, 1).values, lambda x: x.max(1), [(x3, True)]),
        "min_dim_keepdim": (lambda m, x: x.min(dim=-1, keepdim=True)[0],
                            lambda x: x.min(-1, keepdims=True), [(x3, True)]),
        "amax_tuple": (lambda m, x: m.amax(x, (0, 2)), lambda x: x.max((0, 2)), [(x3, True)]),
        "amin_neg_keepdim": (lambda m, x: x.amin(-1, keepdim=True),
                             lambda x: x.min(-1, keepdims=True), [(x3, True)]),
        "logsumexp_dim": (lambda m, x: m.logsumexp(x, 1),
                          lambda x: np.log(np.exp(x).sum(1)), [(x3, True)]),
        "logsumexp_tuple_keepdim": (lambda m, x: x.logsumexp((0, -1), keepdim=True),
                                    lambda x: np.log(np.exp(x).sum((0, 2), keepdims=True)),
                                    [(x3, True)]),
    }


CASES = cases()


def _ember(spec):
    return [ember.tensor(a.copy(), dtype=ember.float64, requires_grad=d) for a, d in spec]


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_numpy(name):
    fn, ref, spec = CASES[name]
    out = fn(ember, *_ember(spec))
    assert out.dtype == ember.float64
    assert_close(out, ref(*[a for a, _ in spec]), rtol=1e-12, atol=1e-12, msg=name)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, _, spec = CASES[name]
    assert gradcheck(lambda *t: fn(ember, *t), _ember(spec))


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    torch = pytest.importorskip("torch")
    fn, _, spec = CASES[name]
    ours = _ember(spec)
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=d) for a, d in spec]
    out, ref = fn(ember, *ours), fn(torch, *theirs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12, msg=f"{name} forward")
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ours, theirs)):
        assert e.grad is not None, f"{name}: input {i} got no gradient"
        assert e.grad.dtype == ember.float64
        assert_close(e.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12, msg=f"{name} grad {i}")


# ---- NumPy array operands --------------------------------------------------------------------
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_numpy_array_operands_on_both_sides(op):
    x = away_from_zero((2, 3))
    arr = away_from_zero((3,))
    f = getattr(operator, {"div": "truediv"}.get(op, op))
    t = ember.tensor(x, requires_grad=True)
    left, right = f(arr, t), f(t, arr)  # ndarray op Tensor must not become an object array
    assert isinstance(left, ember.Tensor) and isinstance(right, ember.Tensor)
    assert_close(left, f(arr, x), rtol=1e-12, atol=1e-12)
    assert_close(right, f(x, arr), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: f(arr, a) + f(a, arr), (t,))


# ---- dtype promotion, like PyTorch -----------------------------------------------------------
F32, F64, I64 = ember.float32, ember.float64, ember.int64


@pytest.mark.parametrize("make, expected", [
    (lambda m: m.ones(2) + 2.5, "float32"),
    (lambda m: 2.5 * m.ones(2), "float32"),
    (lambda m: m.ones(2) ** 2, "float32"),
    (lambda m: 2 ** m.ones(2), "float32"),
    (lambda m: m.tensor([1, 2]) / m.tensor([2, 2]), "float32"),
    (lambda m: m.tensor([1, 2]) / 2, "float32"),
    (lambda m: m.tensor([1, 2]) + 2.5, "float32"),
    (lambda m: m.tensor([1, 2]) * 2, "int64"),
    (lambda m: m.tensor([1, 2]) + m.ones(2), "float32"),
    (lambda m: m.ones(2) + m.ones(2, dtype=m.float64), "float64"),
    (lambda m: m.ones(2, dtype=m.float64) * 3.0, "float64"),
    (lambda m: m.ones(2) * m.tensor(2.0, dtype=m.float64), "float32"),  # 0-d does not promote
    (lambda m: m.tensor([1, 2]) * m.tensor(2.0, dtype=m.float64), "float64"),
    (lambda m: m.ones(2) * np.float64(2.0), "float32"),
    (lambda m: m.tensor([1, 4]).sqrt(), "float32"),
    (lambda m: m.tensor([0, 1]).exp(), "float32"),
    (lambda m: m.tensor([1, 2]) ** 0.5, "float32"),
    (lambda m: m.tensor([True, False]) + m.tensor([True, True]), "bool"),
    (lambda m: m.where(m.ones(2) > 0, m.ones(2), 0.0), "float32"),
])
def test_dtype_promotion_matches_pytorch(make, expected):
    assert make(ember).dtype == getattr(ember, expected)
    torch = pytest.importorskip("torch")
    assert make(torch).dtype == getattr(torch, expected)


def test_int_arithmetic_values_match_numpy():
    a, b = np.array([7, -7, 3]), np.array([2, 2, -4])
    x, y = ember.tensor(a), ember.tensor(b)
    assert (x + y).tolist() == (a + b).tolist()
    assert (x * y).tolist() == (a * b).tolist()
    assert_close(x / y, (a / b).astype(np.float32))
    assert (x // y).tolist() == (a // b).tolist()
    assert (x ** 2).tolist() == (a ** 2).tolist()


# ---- comparisons and logic -------------------------------------------------------------------
def test_comparisons_return_bool_tensors():
    a, b = np.array([[1., 2., 3.]]), np.array([[2.], [1.]])
    x, y = ember.tensor(a), ember.tensor(b)
    for got, want in [(x < y, a < b), (x <= y, a <= b), (x > y, a > b), (x >= y, a >= b),
                      (x == y, a == b), (x != y, a != b), (x > 1.5, a > 1.5), (2 <= x, 2 <= a),
                      (x.eq(y), a == b), (ember.gt(x, y), a > b)]:
        assert got.dtype == ember.bool
        assert got.shape == want.shape and (got.numpy() == want).all()
    assert not (x > 1).requires_grad
    assert not (ember.tensor(a, requires_grad=True) > 1).requires_grad


def test_logical_ops_on_bool_tensors():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    x, y = ember.tensor(p), ember.tensor(q)
    for got, want in [(x & y, p & q), (x | y, p | q), (x ^ y, p ^ q), (~x, ~p),
                      (ember.logical_and(x, y), p & q), (ember.logical_or(x, y), p | q),
                      (ember.logical_xor(x, y), p ^ q), (ember.logical_not(x), ~p),
                      (x.logical_not(), ~p)]:
        assert got.dtype == ember.bool
        assert got.tolist() == want.tolist()


def test_comparisons_match_pytorch():
    torch = pytest.importorskip("torch")
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, 4).astype(np.float32)
    for op in ("lt", "le", "gt", "ge", "eq", "ne"):
        ours = getattr(ember.tensor(a), op)(ember.tensor(b))
        theirs = getattr(torch.tensor(a), op)(torch.tensor(b))
        assert ours.tolist() == theirs.tolist(), op


# ---- gradients at kinks, like PyTorch --------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, x: x.clamp(min=0.0),
    lambda m, x: x.clamp(max=1.0),
    lambda m, x: x.clamp(0.0, 1.0),
    lambda m, x: m.clamp(x, min=-1.0, max=-1.0),
    lambda m, x: m.maximum(x, m.ones_like(x)),
    lambda m, x: m.minimum(x, m.zeros_like(x)),
    lambda m, x: x.abs(),
    lambda m, x: m.where(x >= 0, x, 2 * x),
], ids=["clamp_min", "clamp_max", "clamp_both", "clamp_equal_bounds", "maximum_tie",
        "minimum_tie", "abs_at_zero", "where"])
def test_gradient_at_boundary_matches_pytorch(fn):
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    ours = ember.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    fn(ember, ours).sum().backward()
    fn(torch, theirs).sum().backward()
    assert_close(ours.grad, theirs.grad.numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("reduce", ["max", "min", "amax", "amin"])
def test_full_reduction_ties_split_gradient_evenly_like_pytorch(reduce):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0], [-1.0, 3.0, -1.0]])
    ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    getattr(ours, reduce)().backward()
    getattr(theirs, reduce)().backward()
    assert_close(ours.grad, theirs.grad.numpy(), rtol=0, atol=0)
    if reduce == "max":
        assert_close(ours.grad, [[0, 1 / 3, 1 / 3], [0, 1 / 3, 0]], rtol=1e-12, atol=0)


def test_amax_with_dim_splits_ties_and_max_with_dim_picks_index_like_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]])
    for fn in (lambda m, t: m.amax(t, 1), lambda m, t: m.max(t, 1).values,
               lambda m, t: m.amin(t, 0, keepdim=True), lambda m, t: m.min(t, dim=0)[0]):
        ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fn(ember, ours).sum().backward()
        fn(torch, theirs).sum().backward()
        assert_close(ours.grad, theirs.grad.numpy(), rtol=0, atol=0)


# ---- max/min with dim, argmax/argmin ---------------------------------------------------------
def test_max_with_dim_returns_values_indices_namedtuple_like_pytorch():
    torch = pytest.importorskip("torch")
    x = rng.integers(0, 3, (4, 5, 3)).astype(np.float32)  # many ties
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            for name in ("max", "min"):
                ours = getattr(ember, name)(ember.tensor(x), dim, keepdim=keepdim)
                theirs = getattr(torch, name)(torch.tensor(x), dim, keepdim=keepdim)
                values, indices = ours
                assert ours.values is values and ours.indices is indices
                assert indices.dtype == ember.int64
                assert_close(values, theirs.values.numpy(), rtol=0, atol=0)
                assert indices.tolist() == theirs.indices.tolist(), (name, dim, keepdim)
                # the method form agrees with the function form
                assert getattr(ember.tensor(x), name)(dim, keepdim).indices.tolist() == \
                    indices.tolist()


def test_argmax_argmin_match_numpy_and_pytorch():
    x = rng.integers(0, 4, (3, 4, 5)).astype(np.float64)
    t = ember.tensor(x)
    assert ember.argmax(t).item() == np.argmax(x)
    assert t.argmin().item() == np.argmin(x)
    for dim in (0, 1, -1):
        assert t.argmax(dim).tolist() == np.argmax(x, dim).tolist()
        assert ember.argmin(t, dim, keepdim=True).tolist() == \
            np.expand_dims(np.argmin(x, dim), dim).tolist()
    torch = pytest.importorskip("torch")
    tt = torch.tensor(x)
    for dim in (None, 0, 2, -2):
        for keepdim in (False, True):
            assert ember.argmax(t, dim, keepdim).tolist() == torch.argmax(tt, dim, keepdim).tolist()
            assert ember.argmin(t, dim, keepdim).tolist() == torch.argmin(tt, dim, keepdim).tolist()


def test_reduction_dim_out_of_range_raises_index_error():
    t = ember.zeros(2, 3)
    with pytest.raises(IndexError):
        t.sum(2)
    with pytest.raises(IndexError):
        t.max(-3)
    with pytest.raises(IndexError):
        t.mean((0, 5))


def test_float32_reductions_agree_with_float64():
    x = rng.standard_normal((4, 5, 6))
    for fn in (lambda t: t.sum((0, 2)), lambda t: t.mean(1), lambda t: t.var(-1),
               lambda t: t.std(), lambda t: t.logsumexp(1), lambda t: t.amax((1, 2))):
        assert_close(fn(ember.tensor(x, dtype=ember.float32)), fn(ember.tensor(x)).float(),
                     rtol=1e-5, atol=1e-5)


# ---- matmul ----------------------------------------------------------------------------------
MATMUL_SHAPES = [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((3, 4), (4, 2)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,)), ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 2))]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_numpy_gradcheck_and_pytorch(sa, sb):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x, y = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    out = x @ y
    assert_close(out, np.matmul(a, b), rtol=1e-12, atol=1e-12)
    assert_close(ember.matmul(x, y), np.matmul(a, b), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda p, q: p @ q, (x, y))
    torch = pytest.importorskip("torch")
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = tx @ ty
    assert tuple(out.shape) == tuple(ref.shape)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_close(y.grad, ty.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_matmul_float32_agrees_with_float64():
    a, b = rng.standard_normal((2, 1, 7, 9)), rng.standard_normal((3, 9, 5))
    out32 = ember.tensor(a, dtype=ember.float32) @ ember.tensor(b, dtype=ember.float32)
    assert out32.dtype == ember.float32
    assert_close(out32, np.matmul(a, b).astype(np.float32), rtol=1e-5, atol=1e-5)


def test_matmul_non_contiguous_operands():
    a = rng.standard_normal((4, 3))
    x = ember.tensor(a)
    assert_close(x.T @ x, a.T @ a, rtol=1e-12, atol=1e-12)
    assert_close(x.t() @ x[:, ::2], a.T @ a[:, ::2], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((4,), (3,)), ((2, 3, 4), (3, 4, 2)),
                                    ((2, 3), (5,))])
def test_matmul_shape_errors_name_the_op_and_both_shapes(sa, sb):
    with pytest.raises(ember.ShapeError, match="matmul") as err:
        ember.ones(*sa) @ ember.ones(*sb)
    assert str(sa) in str(err.value) and str(sb) in str(err.value)


def test_matmul_of_scalar_raises_shape_error():
    with pytest.raises(ember.ShapeError, match="matmul"):
        ember.tensor(2.0) @ ember.ones(2)


def test_mm_and_bmm_check_dimensions():
    assert ember.mm(ember.ones(2, 3), ember.ones(3, 4)).shape == (2, 4)
    assert ember.bmm(ember.ones(5, 2, 3), ember.ones(5, 3, 4)).shape == (5, 2, 4)
    with pytest.raises(ValueError, match="mm"):
        ember.mm(ember.ones(2, 2, 3), ember.ones(3, 4))
    with pytest.raises(ValueError, match="bmm"):
        ember.bmm(ember.ones(2, 3), ember.ones(3, 4))
