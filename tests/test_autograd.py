"""The autograd engine: accumulation, graph lifetime, grad modes, autograd.grad, graph shapes."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck


def leaf(values, dtype=ember.float64):
    return ember.tensor(values, dtype=dtype, requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * (np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    assert_close(x.grad, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("make", [lambda x: (x.exp() * x).sum(), lambda x: (x * 2).sum()])
def test_second_backward_without_retain_graph_raises(make):
    y = make(leaf([1.0, 2.0]))
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_argument_errors():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(ember.ones(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(ember.ones(1, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(ember.tensor([1.0, 0.5, -1.0], dtype=ember.float64))
    assert x.grad.tolist() == [2.0, 2.0, -6.0]


def test_no_grad_as_context_and_decorators():
    x = leaf([1.0])

    @ember.no_grad()
    def called():
        return x * 2

    @ember.no_grad
    def bare():
        return x * 2

    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert not called().requires_grad and not bare().requires_grad
    assert bare.__name__ == "bare" and ember.is_grad_enabled()


def test_set_grad_enabled_as_context_and_function():
    x = leaf([1.0])
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with ember.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert ember.is_grad_enabled()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError("boom")
    assert ember.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    ((y.detach() * y)).sum().backward()  # the detached factor is a constant
    assert x.grad.tolist() == [9.0, 18.0]


def test_leaf_and_non_leaf_grad_and_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    k = x * 3
    h.retain_grad()
    (h * h + k).sum().backward()
    assert x.is_leaf and not h.is_leaf
    assert h.grad.tolist() == [4.0, 8.0]  # d/dh (h^2) = 2h
    assert k.grad is None
    assert x.grad.tolist() == [11.0, 19.0]


def test_autograd_grad_returns_without_accumulating():
    x, w = leaf([1.0, 2.0]), leaf([3.0])
    h = x * w
    y = (h * h).sum()
    gx, gh = ember.autograd.grad(y, [x, h], retain_graph=True)
    assert_close(gx, [18.0, 36.0], rtol=0, atol=0)
    assert_close(gh, [6.0, 12.0], rtol=0, atol=0)
    assert x.grad is None and w.grad is None and h.grad is None
    (gw,) = ember.autograd.grad(y, w)
    assert_close(gw, [30.0], rtol=0, atol=0)
    unused = leaf([0.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        ember.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = ember.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None


def test_autograd_grad_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, -1.2, 2.0])
    results = []
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        h = x.exp()
        y = (h * x.sin()).sum()
        results.append([g.detach().numpy() for g in m.autograd.grad(y, [x, h])])
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_diamond_graph_sums_gradients_of_a_shared_subexpression():
    def f(m, x):
        s = x.exp()                  # used by three consumers
        return (s * 2 + s.sin() + s * s).sum()

    a = np.array([0.1, -0.5, 0.7])
    x = leaf(a)
    assert gradcheck(lambda t: f(ember, t), (x,))
    f(ember, x).backward()
    s = np.exp(a)
    assert_close(x.grad, (2 + np.cos(s) + 2 * s) * s, rtol=1e-12, atol=0)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    f(torch, tx).backward()
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(2000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    assert_close(x.grad, [1.0001 ** 2000], rtol=1e-10, atol=0)


def test_integer_tensors_never_require_grad():
    i = ember.tensor([1, 2])
    w = leaf([1.0, 2.0])
    assert not i.requires_grad and not (i * 2).requires_grad
    assert (i * w).requires_grad
    (i * w).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0] and i.grad is None
    assert not w.argmax().requires_grad and not w.max(0).indices.requires_grad


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_gradient_dtype_matches_parameter_dtype(dtype):
    x = ember.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    other = ember.tensor([3.0, 4.0], dtype=ember.float64 if dtype == ember.float32 else ember.float32)
    (x * other).sum().backward()
    assert x.grad.dtype == dtype and x.grad.tolist() == [3.0, 4.0]


def test_constant_parts_get_no_gradient_and_unused_leaf_stays_none():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    (x * ember.tensor([2.0, 2.0], dtype=ember.float64)).sum().backward()
    assert unused.grad is None and x.grad.tolist() == [2.0, 2.0]


def test_backward_on_a_leaf_scalar():
    x = ember.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_second_backward_error_names_ops_whose_name_uses_their_settings():
    # Activation and loss nodes name themselves from their kind; freeing a node's saved arrays
    # must keep that, so the error is the clear RuntimeError.
    x = ember.tensor([0.5, -1.0], requires_grad=True)
    y = ember.nn.functional.mse_loss(ember.nn.functional.elu(x), ember.zeros(2))
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time \(MseLossBackward\)"):
        y.backward()


def test_release_frees_saved_arrays():
    x = ember.tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    y.sum().backward()
    assert not any(isinstance(v, np.ndarray) for v in y.grad_fn.__dict__.values())


def test_leaf_gradients_are_private_arrays():
    # Kernel gradients are handed to leaves without a copy (Function.new_grads); each leaf must
    # still own its .grad: changing one in place leaves the others and the graph alone.
    w = ember.tensor(np.ones((3, 2)), requires_grad=True)
    b = ember.tensor(np.ones(3), requires_grad=True)
    x = ember.tensor(np.ones((4, 2)), requires_grad=True)
    out = ember.nn.functional.linear(x, w, b).sum() + x.sum()
    out.backward()
    grads = [t.grad.numpy() for t in (w, b, x)]
    assert all(g.flags.writeable for g in grads)
    for i, g in enumerate(grads):
        assert not any(np.shares_memory(g, other) for other in grads[i + 1:])
    expected_x = x.grad.numpy().copy()
    w.grad.numpy()[...] = 0
    assert_close(x.grad, expected_x, rtol=0, atol=0)


def test_gradient_of_a_shared_input_is_summed_not_aliased():
    x = leaf([1.0, 2.0])
    (x.sum() + x.mean() + x.sum()).backward()
    assert x.grad.tolist() == [2.5, 2.5]
    x.grad.numpy()[0] = 0.0
    y = leaf([1.0, 2.0])
    (y.sum() + y.sum()).backward()
    assert y.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", [((7,), None), ((5, 3), None), ((5, 3), 1), ((4, 5, 6), (0, 2)),
                                       ((), None), ((100000,), 0)])
def test_mean_is_numpy_mean_bitwise(dtype, shape, dim):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    got = ember.from_numpy(a).mean() if dim is None else ember.from_numpy(a).mean(dim=dim)
    np.testing.assert_array_equal(got.numpy(), np.mean(a, axis=dim))
    assert got.numpy().dtype == dtype


def test_zero_dim_parameters_get_array_gradients_that_optimizers_take():
    # pytorch/tutorials dynamic_net.py: five torch.randn(()) Parameters trained by SGD.
    torch = pytest.importorskip("torch")
    x_np = np.linspace(-1, 1, 50, dtype=np.float32)
    results = []
    for lib in (ember, torch):
        a = lib.nn.Parameter(lib.tensor(0.5))
        b = lib.nn.Parameter(lib.tensor(-0.25))
        optimizer = lib.optim.SGD([a, b], lr=0.01, momentum=0.9)
        x = lib.tensor(x_np)
        for _ in range(3):
            loss = ((a + b * x + a * x ** 2 - x) ** 2).sum()  # a used twice: grads accumulate
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if lib is ember:
            assert type(a.grad._array) is np.ndarray and a.grad.shape == ()
        results.append([a.item(), b.item(), a.grad.item()])
    assert_close(np.array(results[0]), np.array(results[1]), rtol=1e-5, atol=1e-6)
    c = ember.tensor(2.0, requires_grad=True)
    for _ in range(2):  # accumulating into an existing 0-d .grad keeps it an array
        (c * 3).backward()
    assert type(c.grad._array) is np.ndarray and c.grad.item() == 6.0
    (g,) = ember.autograd.grad(c * c + c, c)
    assert type(g._array) is np.ndarray and g.item() == 5.0
