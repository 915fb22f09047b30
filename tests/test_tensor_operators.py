"""ember.Tensor's Python operators and in-place methods: every operator PyTorch tensors have
(reflected and augmented forms, bitwise, shifts), in-place math methods with PyTorch's autograd
rules (leaves requiring grad refuse, non-leaves give correct gradients), and in-place dtype and
shape errors."""
import operator

import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck

DUNDERS = ["__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__", "__rmatmul__",
           "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__iadd__", "__isub__",
           "__imul__", "__itruediv__", "__ipow__", "__ifloordiv__", "__imod__", "__and__",
           "__rand__", "__iand__", "__or__", "__ror__", "__ior__", "__xor__", "__rxor__",
           "__ixor__", "__invert__", "__lshift__", "__rlshift__", "__ilshift__", "__rshift__",
           "__rrshift__", "__irshift__", "__div__", "__rdiv__", "__idiv__", "__pos__",
           "__neg__", "__abs__", "__contains__", "__reversed__", "__complex__"]

INPLACE = ["add_", "sub_", "mul_", "div_", "pow_", "clamp_", "clip_", "zero_", "fill_",
           "copy_", "exp_", "log_", "sqrt_", "abs_", "neg_", "relu_", "sigmoid_", "tanh_",
           "floor_", "ceil_", "round_", "trunc_", "frac_", "sign_", "sin_", "cos_", "square_",
           "reciprocal_", "rsqrt_", "log1p_", "expm1_", "log2_", "log10_", "erf_",
           "clamp_min_", "clamp_max_", "lerp_", "addmm_", "remainder_", "fmod_",
           "floor_divide_", "true_divide_", "multiply_", "divide_", "subtract_", "negative_",
           "absolute_", "logit_", "sinc_", "deg2rad_", "rad2deg_", "nan_to_num_", "atan2_",
           "arctan2_", "hypot_", "xlogy_", "tril_", "triu_", "fix_", "bitwise_and_",
           "bitwise_or_", "bitwise_xor_", "bitwise_not_", "erfc_", "asinh_", "acosh_",
           "atanh_", "arcsinh_", "arccosh_", "arctanh_", "copysign_", "float_power_",
           "heaviside_", "sgn_", "addcmul_", "addcdiv_", "addmv_", "addr_", "baddbmm_",
           "addbmm_", "logical_and_", "logical_or_", "logical_xor_", "logical_not_", "eq_",
           "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_", "greater_equal_",
           "less_equal_", "not_equal_",
           "uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_",
           "log_normal_", "cauchy_"]


def test_every_listed_operator_and_inplace_method_exists_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for name in DUNDERS + INPLACE:
        assert hasattr(torch.Tensor, name), f"the list is wrong: torch.Tensor has no {name}"
        assert hasattr(ember.Tensor, name), f"ember.Tensor has no {name}"


def test_no_public_tensor_method_that_pytorch_lacks():
    torch = pytest.importorskip("torch")
    extra = [n for n in dir(ember.Tensor) if not n.startswith("_") and not hasattr(torch.Tensor, n)]
    assert extra == []


# ---- reflected and augmented arithmetic, against PyTorch ---------------------------------------
BINARY = {
    "floordiv": (operator.floordiv, [5.5, -7.25, 3.0], [2.0, 2.0, -4.0]),
    "mod": (operator.mod, [5.5, -7.25, 3.0], [2.0, 2.0, -4.0]),
    "pow": (operator.pow, [1.5, 2.0, 0.5], [2.0, -1.0, 3.0]),
    "truediv": (operator.truediv, [1.5, -2.0, 4.0], [2.0, 4.0, -8.0]),
    "and": (operator.and_, [5, 12, 7], [3, 10, 1]),
    "or": (operator.or_, [5, 12, 7], [3, 10, 1]),
    "xor": (operator.xor, [5, 12, 7], [3, 10, 1]),
    "lshift": (operator.lshift, [5, 12, 7], [1, 2, 3]),
    "rshift": (operator.rshift, [5, 12, 7], [1, 2, 3]),
}


@pytest.mark.parametrize("name", BINARY)
def test_binary_operators_forward_reflected_and_augmented_match_pytorch(name):
    torch = pytest.importorskip("torch")
    op, a, b = BINARY[name]
    iop = getattr(operator, "i" + op.__name__.strip("_"))
    scalar = b[0]
    ea, ta, eb, tb = ember.tensor(a), torch.tensor(a), ember.tensor(b), torch.tensor(b)
    pairs = [(op(ea, eb), op(ta, tb)), (op(ea, scalar), op(ta, scalar)),
             (op(scalar, ea), op(scalar, ta))]
    ec, tc = ea.clone(), ta.clone()
    ec_id = id(ec)
    ec = iop(ec, eb)
    tc = iop(tc, tb)
    assert id(ec) == ec_id, f"{name}: augmented assignment must modify the tensor in place"
    pairs.append((ec, tc))
    for i, (ours, theirs) in enumerate(pairs):
        assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1]), (name, i)
        assert_close(ours, theirs.numpy(), rtol=1e-6, atol=0, msg=f"{name} form {i}")


def test_numpy_scalar_and_array_on_the_left_give_tensors():
    t = ember.tensor([5, 12, 7])
    for out, expected in ((np.int64(3) & t, [1, 0, 3]), (np.array([1, 2, 3]) | t, [5, 14, 7]),
                          (np.int64(20) % t, [0, 8, 6]), (np.int64(20) // t, [4, 1, 2])):
        assert isinstance(out, ember.Tensor) and out.tolist() == expected


def test_bitwise_on_bool_tensors_is_logical_and_invert_negates():
    a, b = ember.tensor([True, True, False]), ember.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False] and (a & b).dtype == ember.bool
    assert (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False]
    assert (~a).tolist() == [False, False, True]
    assert (~ember.tensor([0, 5, -1])).tolist() == [-1, -6, 0]
    assert (True & a).tolist() == [True, True, False]


@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor, operator.lshift,
                                operator.rshift, lambda a, b: ~a],
                         ids=["and", "or", "xor", "lshift", "rshift", "invert"])
def test_bitwise_on_float_tensors_raises_naming_the_op(op):
    with pytest.raises(TypeError, match="bitwise.*float32"):
        op(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))


def test_rmatmul_and_operators_with_gradients():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    x = ember.tensor([[0.3, -1.2], [2.3, 0.7]], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: w @ t + (t % 0.8) * (2.0 // t) + t.__rdiv__(3.0) + t.__div__(2.0),
                     (x,))


# ---- in-place math methods ---------------------------------------------------------------------
UNARY_INPLACE = {
    "sqrt_": (np.sqrt, "pos"), "log_": (np.log, "pos"), "abs_": (np.abs, "any"),
    "floor_": (np.floor, "any"), "ceil_": (np.ceil, "any"), "round_": (np.round, "any"),
    "trunc_": (np.trunc, "any"), "sign_": (np.sign, "any"), "sin_": (np.sin, "any"),
    "cos_": (np.cos, "any"), "square_": (np.square, "any"), "reciprocal_": (np.reciprocal, "pos"),
    "rsqrt_": (lambda x: 1 / np.sqrt(x), "pos"), "log1p_": (np.log1p, "pos"),
    "expm1_": (np.expm1, "any"), "log2_": (np.log2, "pos"), "log10_": (np.log10, "pos"),
    "exp_": (np.exp, "any"), "neg_": (np.negative, "any"),
    "frac_": (lambda x: x - np.trunc(x), "any"),
    "negative_": (np.negative, "any"), "absolute_": (np.abs, "any"),
}
VALUES = {"pos": np.array([0.3, 1.7, 2.5, 4.2]), "any": np.array([-2.3, -0.6, 0.4, 1.7])}


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace_writes_storage_and_matches_numpy(name):
    ref, kind = UNARY_INPLACE[name]
    t = ember.tensor(VALUES[kind])
    alias = t.view(-1)
    assert getattr(t, name)() is t
    assert_close(alias, ref(VALUES[kind]).astype(np.float32))


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace_in_a_graph_gives_pytorch_gradients(name):
    torch = pytest.importorskip("torch")
    _, kind = UNARY_INPLACE[name]
    vals = VALUES[kind]

    def run(m, x):
        y = x * 1.0
        out = getattr(y, name)()
        return (out * x).sum()

    x = ember.tensor(vals, dtype=ember.float64, requires_grad=True)
    if name not in ("floor_", "ceil_", "round_", "trunc_", "sign_", "frac_"):
        assert gradcheck(lambda t: run(ember, t), (x,))
    tx = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    out, ref = run(ember, x), run(torch, tx)
    out.backward()
    ref.backward()
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sqrt_", "floor_", "log1p_", "remainder_", "lerp_",
                                  "clamp_min_", "__imod__", "__ipow__", "uniform_", "normal_",
                                  "random_", "bernoulli_", "exponential_"])
def test_inplace_on_leaf_requiring_grad_raises_like_pytorch(name):
    args = {"remainder_": (2.0,), "lerp_": (ember.ones(3), 0.5), "clamp_min_": (0.0,),
            "__imod__": (2.0,), "__ipow__": (2.0,)}.get(name, ())
    x = ember.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(x, name)(*args)
    with ember.no_grad():
        getattr(x, name)(*args)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


def test_binary_inplace_methods_with_gradients_through_both_operands():
    a = np.array([[1.3, -2.2, 0.7], [2.6, 0.45, -1.15]])
    b = np.array([0.9, 1.7, -0.6])

    def run(m, x, w):
        y = x * 1.0
        y.remainder_(w).lerp_(x, 0.25)
        z = y * 1.0
        z.fmod_(w.abs() + 0.5)
        return (z * w).sum() + y.sum()

    x = ember.tensor(a, requires_grad=True)
    w = ember.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: run(ember, p, q), (x, w))
    torch = pytest.importorskip("torch")
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = run(ember, x, w), run(torch, tx, tw)
    out.backward()
    ref.backward()
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(w.grad, tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_addmm_inplace_matches_pytorch():
    torch = pytest.importorskip("torch")
    c, a, b = np.ones((2, 2)), np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2)
    ours = ember.tensor(c).addmm_(ember.tensor(a), ember.tensor(b), alpha=2, beta=3)
    theirs = torch.tensor(c).addmm_(torch.tensor(a), torch.tensor(b), alpha=2, beta=3)
    assert ours.tolist() == theirs.tolist()


def test_inplace_result_that_needs_a_wider_dtype_raises_like_pytorch():
    t = ember.tensor([1, 2, 3])
    for op in (lambda: t.add_(1.5), lambda: t.sqrt_(), lambda: t.__itruediv__(2),
               lambda: t.mul_(ember.ones(3))):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
            op()
    assert t.tolist() == [1, 2, 3]
    t //= 2
    t %= 2
    assert t.tolist() == [0, 1, 1] and t.dtype == ember.int64


def test_inplace_result_of_broadcast_shape_raises_like_pytorch():
    t = ember.ones(3)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the "
                                           r"broadcast shape \(2, 3\)"):
        t.add_(ember.ones(2, 3))
    y = ember.ones(3, requires_grad=True) * 2  # the graph path checks the same
    with pytest.raises(RuntimeError, match="broadcast shape"):
        y.mul_(ember.ones(2, 3))


def test_inplace_in_graph_keeps_dtype_of_the_tensor():
    x = ember.ones(3, requires_grad=True)
    y = x * 1.0
    y.mul_(ember.tensor([2.0, 3.0, 4.0], dtype=ember.float64))
    assert y.dtype == ember.float32
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 3.0, 4.0] and x.grad.dtype == ember.float32


def test_contains_reversed_and_complex_match_pytorch():
    torch = pytest.importorskip("torch")
    data = [[1, 2], [3, 4]]
    for m in (ember, torch):
        t = m.tensor(data)
        assert (3 in t, 5 in t, m.tensor([1, 2]) in t, m.tensor(9) in t) == (True, False, True,
                                                                            False)
        assert reversed(t).tolist() == [[3, 4], [1, 2]]
        assert reversed(m.tensor(2.0)).item() == 2.0
        assert complex(m.tensor(2.5)) == 2.5 + 0j
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in ember.tensor(data)


def test_addcmul_inplace_as_a_hand_written_adam_step_uses_it():
    torch = pytest.importorskip("torch")
    g = np.array([0.5, -1.0, 2.0])
    for m in (ember, torch):
        exp_avg_sq = m.tensor([0.1, 0.2, 0.3])
        exp_avg_sq.mul_(0.999).addcmul_(m.tensor(g), m.tensor(g), value=1 - 0.999)
        p = m.tensor([1.0, 1.0, 1.0])
        p.addcdiv_(m.tensor(g), exp_avg_sq.sqrt().add_(1e-8), value=-0.01)
        if m is ember:
            ours = (exp_avg_sq.tolist(), p.tolist())
        else:
            np.testing.assert_allclose(ours[0], exp_avg_sq.tolist(), rtol=1e-6)
            np.testing.assert_allclose(ours[1], p.tolist(), rtol=1e-6)


def test_inplace_comparisons_and_logical_methods_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_",
                 "logical_and_", "logical_xor_"):
        ours = getattr(ember.tensor(a), name)(ember.tensor(b))
        theirs = getattr(torch.tensor(a), name)(torch.tensor(b))
        assert ours.dtype == ember.float32 and ours.tolist() == theirs.tolist(), name
    for name in ("logical_and", "logical_or", "logical_xor", "greater", "less", "not_equal"):
        ours = getattr(ember.tensor(a), name)(ember.tensor(b))
        theirs = getattr(torch.tensor(a), name)(torch.tensor(b))
        assert ours.dtype == ember.bool and ours.tolist() == theirs.tolist(), name


def test_metadata_methods_match_pytorch():
    torch = pytest.importorskip("torch")
    for m in (ember, torch):
        t = m.ones(2, 3)
        u = m.ones(3, dtype=m.uint8)
        assert (t.nbytes, t.itemsize, u.nbytes, u.itemsize) == (24, 4, 3, 1)
        assert t.is_signed() and not u.is_signed() and m.ones(2, dtype=m.int64).is_signed()
        assert m.tensor([2.0]).is_nonzero() and not m.tensor(0).is_nonzero()
        assert t.is_same_size(m.zeros(2, 3)) and not t.is_same_size(u)


# ---- in-place on views (t[index]) ------------------------------------------------------------
def _views_in_a_graph(m, x, w):
    y = x * 2
    y[0].mul_(w)                 # a row of a non-leaf
    y[:, 1:].clamp_(max=9.0)     # a slice
    y[1, 0].sub_(w[0])           # one element
    buf = m.zeros(2, 3, dtype=m.float64)
    buf[1].add_(w * x[0])        # a view of a tensor without grad takes a graph
    return (y * y).sum() + (buf * x).sum()


def test_inplace_on_views_changes_the_base_with_pytorch_gradients():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = np.array([0.5, -1.0, 2.0])
    x, w = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: _views_in_a_graph(ember, p, q), (x, w))
    torch = pytest.importorskip("torch")
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = _views_in_a_graph(ember, x, w), _views_in_a_graph(torch, tx, tw)
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.backward()
    ref.backward()
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(w.grad, tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_inplace_on_a_view_of_a_leaf_requiring_grad_raises_like_pytorch():
    w = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    for op in (lambda: w[0].add_(1), lambda: w[1:].mul_(2), lambda: w[:2].zero_()):
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            op()
    assert w.tolist() == [0.5, -1.0, 2.0]
    with ember.no_grad():  # as PyTorch: allowed, and the leaf sees it
        w[1].fill_(7.0)
        w[2].mul_(2.0)
        w[0] += 1
    assert w.tolist() == [1.5, 7.0, 4.0] and w.is_leaf


def test_inplace_on_views_of_plain_tensors_writes_the_base_like_pytorch():
    torch = pytest.importorskip("torch")
    for m in (ember, torch):
        t = m.tensor([[1, 2], [3, 4]])
        t[1, 1].zero_()
        t[0][1].add_(5)
        t[:, 0].mul_(10)
        assert t.tolist() == [[10, 7], [30, 0]]
    copy = ember.tensor([1.0, 2.0, 3.0])
    picked = copy[[0, 2]]  # advanced indexing copies, in PyTorch too
    picked.add_(1)
    assert copy.tolist() == [1.0, 2.0, 3.0]


def test_python_numbers_with_zero_dim_tensors_give_tensors_that_accumulate_in_place():
    # The tutorial idiom `correct = 0; correct += (pred == y).sum()` makes a tensor from
    # 0 + tensor, then adds into it in place; NumPy returns scalars for 0-d operands.
    torch = pytest.importorskip("torch")
    counts = [ember.tensor([1, 0, 1]).sum(), ember.tensor([1, 1, 1]).sum()]
    correct = 0
    for count in counts:
        correct += count
    expected = 0
    for count in counts:
        expected += torch.tensor(count.tolist())
    assert correct.tolist() == expected.tolist() == 5 and correct.dtype == ember.int64
    s = ember.tensor(2.5)
    for make in (lambda t: 1 + t, lambda t: 2 * t, lambda t: 1 - t, lambda t: 3 / t,
                 lambda t: 2 ** t, lambda t: -t, lambda t: t % 2):
        out = make(s)
        out += 1  # an in-place op writes into the result's storage
        assert out.item() == pytest.approx(make(torch.tensor(2.5)).item() + 1)
