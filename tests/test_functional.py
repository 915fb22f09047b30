"""ember.nn.functional: float64 gradcheck of every differentiable input, and PyTorch parity."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(11)
REDUCTIONS = ["none", "mean", "sum"]


def _target(fn, labels):
    """Class-index targets as the module's own tensor type (ember or torch)."""
    if fn is F:
        return ember.tensor(labels)
    import torch
    return torch.from_numpy(labels)


def away_from_zero(shape, lo=-3, hi=3):
    x = rng.uniform(lo, hi, shape)
    return np.where(np.abs(x) < 0.1, x + 0.3, x)


# name -> (function of the functional module `fn` and inputs, list of (array, differentiable))
def cases():
    x = away_from_zero((3, 4))
    x3 = away_from_zero((2, 3, 4))
    t = rng.standard_normal((3, 4))
    p01 = rng.uniform(0.1, 0.9, (3, 4))
    y = rng.integers(0, 4, 3)
    y_ign = np.array([1, -100, 3])
    yd = rng.integers(0, 3, (2, 4))  # (N, d) targets for (N, C, d) input
    w4 = rng.uniform(0.5, 2, 4)
    probs = rng.dirichlet(np.ones(4), 3)
    c = {
        "linear": (lambda fn, a, w, b: fn.linear(a, w, b),
                   [(x, True), (rng.standard_normal((5, 4)), True), (rng.standard_normal(5), True)]),
        "relu": (lambda fn, a: fn.relu(a), [(x, True)]),
        "leaky_relu": (lambda fn, a: fn.leaky_relu(a, 0.2), [(x, True)]),
        "elu": (lambda fn, a: fn.elu(a, 0.7), [(x, True)]),
        "gelu": (lambda fn, a: fn.gelu(a), [(x, True)]),
        "gelu_tanh": (lambda fn, a: fn.gelu(a, approximate="tanh"), [(x, True)]),
        "sigmoid": (lambda fn, a: fn.sigmoid(a), [(x, True)]),
        "tanh": (lambda fn, a: fn.tanh(a), [(x, True)]),
        "softplus": (lambda fn, a: fn.softplus(a, beta=2.0, threshold=4.0), [(x, True)]),
    }
    for d in (0, 1, 2, -1):
        c[f"softmax_dim{d}"] = (lambda fn, a, d=d: fn.softmax(a, dim=d), [(x3, True)])
        c[f"log_softmax_dim{d}"] = (lambda fn, a, d=d: fn.log_softmax(a, dim=d), [(x3, True)])
    for r in REDUCTIONS:
        c[f"mse_{r}"] = (lambda fn, a, b, r=r: fn.mse_loss(a, b, reduction=r), [(x, True), (t, True)])
        c[f"l1_{r}"] = (lambda fn, a, b, r=r: fn.l1_loss(a, b, reduction=r), [(x, True), (t + 0.05, True)])
        c[f"huber_{r}"] = (lambda fn, a, b, r=r: fn.huber_loss(a, b, reduction=r, delta=0.8),
                           [(x, True), (t, True)])
        c[f"smooth_l1_{r}"] = (lambda fn, a, b, r=r: fn.smooth_l1_loss(a, b, reduction=r, beta=0.6),
                               [(x, True), (t, True)])
        c[f"bce_{r}"] = (lambda fn, a, b, w, r=r: fn.binary_cross_entropy(a, b, w, reduction=r),
                         [(p01, True), (rng.uniform(0, 1, (3, 4)), True), (rng.uniform(0.5, 2, (3, 4)), False)])
        c[f"bce_logits_{r}"] = (
            lambda fn, a, b, w, pw, r=r: fn.binary_cross_entropy_with_logits(a, b, w, reduction=r, pos_weight=pw),
            [(x, True), (rng.uniform(0, 1, (3, 4)), True), (rng.uniform(0.5, 2, (3, 4)), False),
             (rng.uniform(0.5, 3, 4), False)])
        c[f"ce_{r}"] = (lambda fn, a, r=r: fn.cross_entropy(a, _target(fn, y), reduction=r), [(x, True)])
        c[f"ce_weight_ignore_smooth_{r}"] = (
            lambda fn, a, w, r=r: fn.cross_entropy(a, _target(fn, y_ign), w, reduction=r, label_smoothing=0.2),
            [(x, True), (w4, False)])
        c[f"ce_nd_{r}"] = (lambda fn, a, r=r: fn.cross_entropy(a, _target(fn, yd), reduction=r, label_smoothing=0.1),
                           [(away_from_zero((2, 3, 4)), True)])
        c[f"ce_probs_{r}"] = (lambda fn, a, p, r=r: fn.cross_entropy(a, p, reduction=r, label_smoothing=0.1),
                              [(x, True), (probs, True)])
        c[f"nll_{r}"] = (lambda fn, a, w, r=r: fn.nll_loss(a, _target(fn, y_ign), w, reduction=r), [(x, True), (w4, False)])
    return c


CASES = cases()


def _ember_inputs(spec):
    return [ember.tensor(a.copy(), dtype=ember.float64, requires_grad=d) for a, d in spec]


def _ember_outputs(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, spec = CASES[name]
    assert gradcheck(lambda *a: fn(F, *a), _ember_inputs(spec))


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    torch = pytest.importorskip("torch")
    fn, spec = CASES[name]
    ours = _ember_inputs(spec)
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=d) for a, d in spec]
    out = fn(F, *ours)
    ref = fn(torch.nn.functional, *theirs)
    assert_close(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12, msg=f"{name} forward")
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g, dtype=ember.float64))
    ref.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ours, theirs)):
        if t.requires_grad:
            assert e.grad is not None, f"{name}: input {i} got no gradient"
            assert_close(e.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11, msg=f"{name} grad of input {i}")


def test_dropout_statistics_scaling_and_eval_identity():
    ember.manual_seed(0)
    x = ember.ones(200, 100, dtype=ember.float64, requires_grad=True)
    y = F.dropout(x, p=0.3, training=True)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_close(y.detach().numpy()[kept], np.full(kept.sum(), 1 / 0.7))
    y.sum().backward()
    assert_close(x.grad.numpy(), np.where(kept, 1 / 0.7, 0.0))
    assert F.dropout(x, p=0.3, training=False) is x or np.array_equal(
        F.dropout(x, p=0.3, training=False).detach().numpy(), x.detach().numpy())
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(x, p=1.5)


# ---- inplace=True writes into the input, as in PyTorch -------------------------------------
@pytest.mark.parametrize("call", [
    lambda F_, x: F_.relu(x, inplace=True),
    lambda F_, x: F_.leaky_relu(x, 0.1, inplace=True),
    lambda F_, x: F_.elu(x, 0.5, inplace=True),
    lambda F_, x: F_.hardtanh(x, inplace=True),
])
def test_inplace_activation_modifies_input_and_keeps_gradients(call):
    data = away_from_zero((3, 4))
    plain = ember.tensor(data)
    out = call(F, plain)
    assert out is plain
    expected = call(F, ember.tensor(data))  # same op applied to a fresh copy
    assert_close(plain, expected)

    # Inside a graph, on a non-leaf: gradients equal those of the out-of-place op.
    a = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    b = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    h = a * 2
    call(F, h)
    (h * h).sum().backward()
    ref = call(F, b * 2)
    (ref * ref).sum().backward()
    assert_close(a.grad, b.grad)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(x, inplace=True)


def test_relu_module_inplace_writes_into_input():
    x = ember.tensor([-1.0, 2.0])
    out = ember.nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]


def test_dropout_inplace_writes_into_input():
    ember.manual_seed(0)
    x = ember.ones(1000)
    out = F.dropout(x, 0.5, training=True, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy()).tolist()) <= {0.0, 2.0}


def test_cross_entropy_with_float_class_labels_says_to_use_integers():
    logits = ember.randn(5, 3)
    with pytest.raises(TypeError, match=r"class-index targets must be integers \(use target.long\(\)\)"):
        F.cross_entropy(logits, ember.tensor([0.0, 1, 2, 1, 0]))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(logits, ember.tensor([0.0, 1, 2, 1, 0]))


def test_inference_paths_match_recorded_ones_bitwise():
    # Without gradient recording, conv2d, max_pool2d, activations, softmax and reshapes call
    # their kernels directly (no node); the values must be the recorded path's.
    rng = np.random.default_rng(7)
    x = ember.from_numpy(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    w = ember.from_numpy(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    b = ember.from_numpy(rng.standard_normal(4).astype(np.float32))

    def run():
        y = F.conv2d(x, w, b, padding=1)
        y = F.max_pool2d(F.relu(y), 2)
        y = ember.tanh(ember.sigmoid(y)).view(2, -1).reshape(2, 4, -1).flatten(1)
        return F.log_softmax(y, dim=1), F.softmax(y, dim=1)

    recorded = run()
    with ember.no_grad():
        inferred = run()
    for got, want in zip(inferred, recorded):
        assert got.grad_fn is None
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with ember.no_grad(), pytest.raises(TypeError, match="relu: expected a floating point"):
        F.relu(ember.tensor([1, 2]))
    with ember.no_grad(), pytest.raises(ember.ShapeError, match=r"view: shape \[5, -1\] is "
                                                                r"invalid for input of shape"):
        x.view(5, -1)


@pytest.mark.parametrize("legacy, reduction", [(dict(size_average=False), "sum"),
                                               (dict(reduce=False), "none"),
                                               (dict(size_average=True, reduce=True), "mean")])
def test_deprecated_size_average_and_reduce_warn_and_reduce_like_pytorch(legacy, reduction):
    # yunjey's VAE: F.binary_cross_entropy(x_reconst, x, size_average=False).
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p, y = rng.uniform(0.1, 0.9, (2, 5)), rng.uniform(0, 1, (2, 5))
    for name in ("binary_cross_entropy", "mse_loss", "l1_loss"):
        with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
            out = getattr(F, name)(ember.tensor(p), ember.tensor(y), **legacy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(torch.nn.functional, name)(torch.tensor(p), torch.tensor(y),
                                                          **legacy)
        assert_close(out.numpy(), expected.numpy())
    with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
        assert ember.nn.MSELoss(**legacy).reduction == reduction
