"""The fused Linear + activation layer: its kernels, its autograd node, and nn.Sequential's use of
it (a Linear followed by ReLU, Sigmoid or Tanh runs as one node)."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import _core
from ember.ops.linalg import LinearActivation
from ember.testing import assert_close, gradcheck, numerical_jacobian

rng = np.random.default_rng(4321)
ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
               "tanh": np.tanh}
MODULES = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- kernels

@pytest.mark.parametrize("kind", ACTIVATIONS)
@pytest.mark.parametrize("n,fin,fout", [(5, 3, 4), (1, 7, 1), (0, 3, 4), (4, 0, 3), (16, 33, 17)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(kind, n, fin, fout, bias, dtype):
    x, w = randn(n, fin, dtype=dtype), randn(fout, fin, dtype=dtype)
    b = randn(fout, dtype=dtype) if bias else None
    out = _core.linear_activation_forward(x, w, b, kind)
    pre = x.astype(np.float64) @ w.astype(np.float64).T + (0 if b is None else b)
    assert out.dtype == dtype and out.shape == (n, fout)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(out, ACTIVATIONS[kind](pre), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_linear_then_activation_bitwise(kind, dtype):
    # The fused node must not change a model's numbers: same products, same activation code.
    x, w, b = randn(9, 6, dtype=dtype), randn(5, 6, dtype=dtype), randn(5, dtype=dtype)
    g = randn(9, 5, dtype=dtype)
    y = _core.linear_activation_forward(x, w, b, kind)
    pre = _core.linear_forward(x, w, b)
    act = getattr(_core, kind + "_forward")(pre, 0.0, 0.0)
    np.testing.assert_array_equal(y, act)
    g_pre = getattr(_core, kind + "_backward")(g, pre if kind == "relu" else act, 0.0, 0.0)
    fused = _core.linear_activation_backward(g, x, w, y, kind, True, True, True)
    for got, want in zip(fused, _core.linear_backward(g_pre, x, w, True, True, True)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ACTIVATIONS)
@pytest.mark.parametrize("n", [4, 1, 0])
def test_backward_matches_finite_differences(kind, n):
    x, w, b = randn(n, 3), randn(5, 3), randn(5)
    g = randn(n, 5)
    y = _core.linear_activation_forward(x, w, b, kind)
    grads = _core.linear_activation_backward(g, x, w, y, kind, True, True, True)
    project = lambda x_, w_, b_: float((_core.linear_activation_forward(x_, w_, b_, kind) * g).sum())
    for got, k, shape in zip(grads, range(3), (x.shape, w.shape, b.shape)):
        assert got.shape == shape
        assert_close(got, numerical_jacobian(project, [x, w, b], k).reshape(shape),
                     rtol=1e-6, atol=1e-7)


def test_backward_computes_only_requested():
    x, w, g = randn(4, 3), randn(5, 3), randn(4, 5)
    y = _core.linear_activation_forward(x, w, None, "tanh")
    gi, gw, gb = _core.linear_activation_backward(g, x, w, y, "tanh", False, True, False)
    assert gi is None and gb is None and gw.shape == (5, 3)


def test_float32_agrees_with_float64():
    x, w, b, g = randn(64, 40), randn(30, 40), randn(30), randn(64, 30)
    for kind in ACTIVATIONS:
        y64 = _core.linear_activation_forward(x, w, b, kind)
        y32 = _core.linear_activation_forward(*(a.astype(np.float32) for a in (x, w, b)), kind)
        assert_close(y32, y64, rtol=1e-4, atol=1e-4)
        g64 = _core.linear_activation_backward(g, x, w, y64, kind, True, True, True)
        g32 = _core.linear_activation_backward(*(a.astype(np.float32) for a in (g, x, w, y64)),
                                               kind, True, True, True)
        for a32, a64 in zip(g32, g64):
            assert a32.dtype == np.float32
            assert_close(a32, a64, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_result_with_one_and_two_threads(restore_threads, dtype):
    # Small layers run single-threaded; the large one is an Eigen GEMM threaded inside, whose
    # last bits may change with the thread count (as linear_forward's).
    cases = [(randn(4, 2, dtype=dtype), randn(3, 2, dtype=dtype), randn(3, dtype=dtype)),
             (randn(256, 128, dtype=dtype), randn(96, 128, dtype=dtype), randn(96, dtype=dtype))]
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        out = []
        for x, w, b in cases:
            y = _core.linear_activation_forward(x, w, b, "tanh")
            out += [y, *_core.linear_activation_backward(np.ones_like(y), x, w, y, "tanh")]
        results.append(out)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for k, (one, two) in enumerate(zip(*results)):
        if k < 4:
            np.testing.assert_array_equal(one, two)
        else:
            assert_close(one, two, rtol=tol, atol=tol * 10)


def test_errors_name_the_op_and_shapes():
    with pytest.raises(_core.ShapeError, match=r"linear_activation.*\(3, 4\).*\(2, 5\)"):
        _core.linear_activation_forward(randn(3, 4), randn(2, 5), None, "relu")
    with pytest.raises(ValueError, match="linear_activation: activation must be 'relu', "
                                         "'sigmoid' or 'tanh', got 'elu'"):
        _core.linear_activation_forward(randn(3, 4), randn(2, 4), None, "elu")
    y = randn(3, 2)
    with pytest.raises(_core.ShapeError, match=r"linear_activation_backward: output has shape "
                                               r"\(3, 3\), expected \(3, 2\)"):
        _core.linear_activation_backward(y, randn(3, 4), randn(2, 4), randn(3, 3), "relu")
    with pytest.raises(TypeError, match=r"linear_activation: weight has dtype float64 but expected float32"):
        _core.linear_activation_forward(randn(3, 4, dtype=np.float32), randn(2, 4), None, "relu")
    with pytest.raises(_core.ShapeError, match=r"linear_activation: expected a 2-D input, got "
                                               r"shape \(2, 3, 4\)"):
        LinearActivation.apply(ember.zeros(2, 3, 4), ember.zeros(5, 4), None, activation="relu")


# ---------------------------------------------------------------- the autograd node

@pytest.mark.parametrize("kind", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck(kind, bias):
    x = ember.tensor(randn(4, 3), requires_grad=True)
    w = ember.tensor(randn(5, 3), requires_grad=True)
    b = ember.tensor(randn(5), requires_grad=True) if bias else None
    assert gradcheck(lambda *a: LinearActivation.apply(*a, activation=kind), (x, w, b))


def test_node_is_named_after_the_activation_as_in_pytorch():
    x = ember.ones(2, 3, requires_grad=True)
    y = LinearActivation.apply(x, ember.ones(4, 3), None, activation="sigmoid")
    assert y.grad_fn.name == "SigmoidBackward"
    y.sum().backward()
    with pytest.raises(RuntimeError, match=r"second time \(SigmoidBackward\)"):
        y.sum().backward()


# ---------------------------------------------------------------- nn.Sequential

def _mlp(kind, dtype=ember.float32):
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), MODULES[kind](), nn.Linear(5, 4), MODULES[kind](),
                         nn.Linear(4, 2)).to(dtype)


def _unfused_forward(model, x):
    for module in model:
        x = module(x)
    return x


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_sequential_fuses_and_matches_module_by_module_bitwise(kind):
    model = _mlp(kind)
    x = ember.from_numpy(randn(7, 6, dtype=np.float32))
    fused = model(x)
    assert type(fused.grad_fn.inputs[0].grad_fn) is LinearActivation
    fused.sum().backward()
    fused_grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    unfused = _unfused_forward(model, x)
    unfused.sum().backward()
    np.testing.assert_array_equal(fused.detach().numpy(), unfused.detach().numpy())
    for got, p in zip(fused_grads, model.parameters()):
        np.testing.assert_array_equal(got, p.grad.numpy())


@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_sequential_inference_runs_kernels_directly_with_the_same_result(kind):
    model = _mlp(kind)
    x = ember.from_numpy(randn(5, 6, dtype=np.float32))
    recorded = model(x)
    with ember.no_grad():
        inferred = model(x)
    assert inferred.grad_fn is None and not inferred.requires_grad
    np.testing.assert_array_equal(inferred.numpy(), recorded.detach().numpy())
    with ember.no_grad(), pytest.raises(TypeError, match="linear_activation: weight has dtype "
                                                         "float32 but expected float64"):
        model(x.double())


def test_sequential_gradcheck_through_fused_layers():
    model = _mlp("tanh", ember.float64)
    x = ember.tensor(randn(3, 6), requires_grad=True)
    assert gradcheck(lambda x_: model(x_), (x,))


def test_sequential_matches_pytorch():
    torch = pytest.importorskip("torch")
    for kind in ACTIVATIONS:
        model = _mlp(kind)
        tmodel = torch.nn.Sequential(torch.nn.Linear(6, 5), getattr(torch.nn, MODULES[kind].__name__)(),
                                     torch.nn.Linear(5, 4), getattr(torch.nn, MODULES[kind].__name__)(),
                                     torch.nn.Linear(4, 2))
        tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in model.state_dict().items()})
        x = randn(7, 6, dtype=np.float32)
        out = model(ember.from_numpy(x))
        tout = tmodel(torch.from_numpy(x))
        assert_close(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
        out.sum().backward()
        tout.sum().backward()
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            assert_close(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_sequential_runs_hooked_modules_one_by_one():
    model = _mlp("relu")
    seen = []
    model[1].register_forward_hook(
        lambda m, args, out: seen.append(out.grad_fn.name if out.grad_fn else None))
    handle = model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    x = ember.from_numpy(randn(3, 6, dtype=np.float32))
    expected = _unfused_forward(model, x)
    assert seen == ["ReluBackward"]
    np.testing.assert_array_equal(model(x).detach().numpy(), expected.detach().numpy())
    assert seen == ["ReluBackward"] * 2
    with ember.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), expected.detach().numpy())
    assert seen == ["ReluBackward"] * 2 + [None]
    handle.remove()
    np.testing.assert_array_equal(model(x).detach().numpy(),
                                  _unfused_forward(model, x).detach().numpy())


def test_sequential_replans_when_its_modules_change():
    model = _mlp("relu")
    x = ember.from_numpy(randn(3, 6, dtype=np.float32))
    model(x)
    model[1] = nn.Identity()  # the first pair no longer fuses
    out = model(x)
    np.testing.assert_array_equal(out.detach().numpy(), _unfused_forward(model, x).detach().numpy())
    model.append(nn.Sigmoid())
    assert model(x).grad_fn.name == "SigmoidBackward"


def test_sequential_does_not_fuse_subclasses_or_other_inputs():
    class Doubling(nn.ReLU):
        def forward(self, input):
            return super().forward(input) * 2

    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), Doubling())
    x = ember.from_numpy(randn(4, 3, dtype=np.float32))
    np.testing.assert_array_equal(model(x).detach().numpy(),
                                  _unfused_forward(model, x).detach().numpy())
    batched = ember.from_numpy(randn(2, 4, 3, dtype=np.float32))  # 3-D: Linear then ReLU
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    assert model(batched).shape == (2, 4, 2)


# ---------------------------------------------------------------- keras Dense

@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_keras_dense_fuses_its_activation_and_matches_unfused_bitwise(kind):
    from ember.keras import layers

    dense = layers.Dense(5, activation=kind)
    x = ember.from_numpy(randn(7, 6, dtype=np.float32))
    y = dense(x)
    assert type(y.grad_fn) is LinearActivation
    unfused = getattr(ember.nn.functional, kind)(
        ember.nn.functional.linear(x, dense.weight, dense.bias))
    np.testing.assert_array_equal(y.detach().numpy(), unfused.detach().numpy())
    y.sum().backward()
    fused_grads = [dense.weight.grad.numpy().copy(), dense.bias.grad.numpy().copy()]
    dense.weight.grad = dense.bias.grad = None
    unfused.sum().backward()
    np.testing.assert_array_equal(fused_grads[0], dense.weight.grad.numpy())
    np.testing.assert_array_equal(fused_grads[1], dense.bias.grad.numpy())


def test_keras_dense_on_3d_input_runs_unfused():
    from ember.keras import layers

    dense = layers.Dense(4, activation="relu")
    y = dense(ember.from_numpy(randn(2, 3, 5, dtype=np.float32)))
    assert y.shape == (2, 3, 4) and y.grad_fn.name == "ReluBackward"
