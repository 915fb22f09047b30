"""PyTorch-style custom autograd Functions (static forward(ctx, ...) and backward(ctx, ...)),
as pytorch/tutorials' polynomial_custom_function.py writes them: forward against NumPy,
gradients against finite differences and against the same Function in PyTorch."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck


def legendre3(base):
    """The tutorial's Function, defined on `base` (ember.autograd.Function or PyTorch's)."""
    class LegendrePolynomial3(base):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendrePolynomial3


def scaled_pair(base):
    """Two outputs, a non-tensor argument, ctx attributes and needs_input_grad."""
    class ScaledPair(base):
        @staticmethod
        def forward(ctx, a, scale, b):
            ctx.scale = scale
            ctx.save_for_backward(a, b)
            return a * b * scale, a + b

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            ga = g_prod * b * ctx.scale + g_sum if ctx.needs_input_grad[0] else None
            gb = g_prod * a * ctx.scale + g_sum if ctx.needs_input_grad[2] else None
            return ga, None, gb
    return ScaledPair


X = np.linspace(-1.5, 1.5, 7)


def test_the_tutorials_function_forward_backward_and_gradcheck():
    torch = pytest.importorskip("torch")
    P3 = legendre3(ember.autograd.Function)
    x = ember.tensor(X, requires_grad=True)
    y = P3.apply(x)
    assert_close(y.detach().numpy(), 0.5 * (5 * X ** 3 - 3 * X))
    y.sum().backward()
    xt = torch.tensor(X, requires_grad=True)
    legendre3(torch.autograd.Function).apply(xt).sum().backward()
    assert_close(x.grad.numpy(), xt.grad.numpy())
    assert gradcheck(P3.apply, (ember.tensor(X, requires_grad=True),))


def test_grad_fn_is_named_after_the_function():
    y = legendre3(ember.autograd.Function).apply(ember.tensor(X, requires_grad=True))
    assert type(y.grad_fn).__name__ != "LegendrePolynomial3"  # a node, not the Function
    assert y.grad_fn.name == "LegendrePolynomial3Backward"


def test_two_outputs_and_a_number_argument_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((2, 3, 4))
    F = scaled_pair(ember.autograd.Function)
    a, b = ember.tensor(a_np, requires_grad=True), ember.tensor(b_np, requires_grad=True)
    prod, total = F.apply(a, 2.5, b)
    assert_close(prod.detach().numpy(), a_np * b_np * 2.5)
    assert_close(total.detach().numpy(), a_np + b_np)
    (prod.square().sum() + (3 * total).sum()).backward()
    at, bt = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    pt, st = scaled_pair(torch.autograd.Function).apply(at, 2.5, bt)
    (pt.square().sum() + (3 * st).sum()).backward()
    assert_close(a.grad.numpy(), at.grad.numpy())
    assert_close(b.grad.numpy(), bt.grad.numpy())
    assert gradcheck(lambda a, b: F.apply(a, 2.5, b), (ember.tensor(a_np, requires_grad=True),
                                                      ember.tensor(b_np, requires_grad=True)))


def test_only_the_inputs_that_need_a_gradient_get_one():
    F = scaled_pair(ember.autograd.Function)
    a, b = ember.ones(2, requires_grad=True), ember.full((2,), 3.0)
    prod, _ = F.apply(a, 1.0, b)
    prod.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None


def test_without_gradients_the_outputs_are_plain_tensors():
    P3 = legendre3(ember.autograd.Function)
    assert P3.apply(ember.tensor(X)).grad_fn is None
    with ember.no_grad():
        assert not P3.apply(ember.tensor(X, requires_grad=True)).requires_grad


def test_non_differentiable_outputs_and_unmaterialized_grads():
    torch = pytest.importorskip("torch")

    def sort_with_indices(base):
        class Sort(base):
            @staticmethod
            def forward(ctx, x):
                values, indices = x.sort()
                ctx.mark_non_differentiable(indices)
                ctx.set_materialize_grads(False)
                ctx.save_for_backward(indices)
                ctx.n = x.shape[0]
                return values, indices

            @staticmethod
            def backward(ctx, g_values, g_indices):
                assert g_indices is None  # not materialized
                indices, = ctx.saved_tensors
                grad = g_values.new_zeros((ctx.n,))
                grad[indices] = g_values
                return grad
        return Sort

    data = np.array([3.0, 1.0, 2.0])
    x = ember.tensor(data, requires_grad=True)
    values, indices = sort_with_indices(ember.autograd.Function).apply(x)
    assert not indices.requires_grad and values.requires_grad
    (values * ember.tensor([1.0, 10.0, 100.0])).sum().backward()
    xt = torch.tensor(data, requires_grad=True)
    vt, _ = sort_with_indices(torch.autograd.Function).apply(xt)
    (vt * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist() == [100.0, 1.0, 10.0]


def test_setup_context_style_of_pytorch_2():
    class Exp(ember.autograd.Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            out, = ctx.saved_tensors
            return g * out

    x = ember.tensor(X, requires_grad=True)
    Exp.apply(x).sum().backward()
    assert_close(x.grad.numpy(), np.exp(X))
    assert gradcheck(Exp.apply, (ember.tensor(X, requires_grad=True),))


def test_a_wrong_number_of_gradients_raises_like_pytorch():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    y = Bad.apply(ember.ones(2, requires_grad=True), ember.ones(2))
    with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect number "
                                           r"of gradients \(expected 2, got 1\)"):
        y.sum().backward()


def test_mark_dirty_is_not_supported():
    class Inplace(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(NotImplementedError, match="mark_dirty"):
        Inplace.apply(ember.ones(2, requires_grad=True))


def test_a_float_output_marked_non_differentiable_needs_no_gradient():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            doubled, tripled = x * 2, x * 3
            ctx.mark_non_differentiable(tripled)
            return doubled, tripled

        @staticmethod
        def backward(ctx, g_doubled, g_tripled):
            assert not g_tripled.numpy().any()  # materialized zeros
            return g_doubled * 2

    x = ember.ones(3, requires_grad=True)
    doubled, tripled = Twice.apply(x)
    assert doubled.requires_grad and not tripled.requires_grad
    doubled.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
