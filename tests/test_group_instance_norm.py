"""F.group_norm / nn.GroupNorm and F.instance_norm / nn.InstanceNorm1d/2d/3d: forward against
NumPy, float64 finite-difference gradients of input, weight and bias, running statistics,
PyTorch parity on the same weights, and bad input."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

EPS = 1e-5


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def group_norm_reference(x, groups, weight=None, bias=None, eps=EPS):
    n, c = x.shape[:2]
    rows = x.reshape(n, groups, -1)
    y = (rows - rows.mean(-1, keepdims=True)) / np.sqrt(rows.var(-1, keepdims=True) + eps)
    y = y.reshape(x.shape)
    view = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(view)
    if bias is not None:
        y = y + bias.reshape(view)
    return y


GROUP_CASES = [((2, 6, 5), 3), ((3, 4, 3, 2), 2), ((2, 4, 3, 3), 4), ((2, 4, 3, 3), 1),
               ((4, 6), 3), ((1, 2, 2, 2, 3), 2)]


@pytest.mark.parametrize("shape, groups", GROUP_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_norm_forward_matches_numpy(shape, groups, dtype):
    x, w, b = randn(*shape) * 3 + 1, randn(shape[1], seed=1), randn(shape[1], seed=2)
    got = F.group_norm(ember.tensor(x.astype(dtype)), groups, ember.tensor(w.astype(dtype)),
                       ember.tensor(b.astype(dtype)))
    assert got.dtype == ember.tensor(x.astype(dtype)).dtype
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert_close(got, group_norm_reference(x, groups, w, b), rtol=tol, atol=tol)
    plain = F.group_norm(ember.tensor(x.astype(dtype)), groups)
    assert_close(plain, group_norm_reference(x, groups), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, groups", GROUP_CASES, ids=str)
def test_group_norm_gradients_match_finite_differences(shape, groups):
    x = ember.tensor(randn(*shape) * 2 + 0.5, requires_grad=True)
    w = ember.tensor(randn(shape[1], seed=1), requires_grad=True)
    b = ember.tensor(randn(shape[1], seed=2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), (x, w, b))
    assert gradcheck(lambda x: F.group_norm(x, groups, eps=0.1), (x,))


def test_group_norm_module_parameters_and_repr():
    m = nn.GroupNorm(2, 4)
    assert [name for name, _ in m.named_parameters()] == ["weight", "bias"]
    assert m.weight.shape == (4,) and np.all(m.weight.detach().numpy() == 1)
    assert np.all(m.bias.detach().numpy() == 0)
    assert repr(m) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert list(nn.GroupNorm(2, 4, affine=False).parameters()) == []
    no_bias = nn.GroupNorm(1, 4, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]
    assert nn.GroupNorm(2, 4, dtype=ember.float64).weight.dtype == ember.float64


def test_group_norm_module_trains_weight_and_bias():
    m = nn.GroupNorm(2, 4).double()
    x = ember.tensor(randn(3, 4, 5))
    m(x).mul(ember.tensor(randn(3, 4, 5, seed=3))).sum().backward()
    assert m.weight.grad.shape == (4,) and m.bias.grad.shape == (4,)
    assert np.abs(m.weight.grad.numpy()).sum() > 0


@pytest.mark.parametrize("bad, message", [
    (dict(num_groups=3, num_channels=4), "must be divisible by num_groups"),
    (dict(num_groups=0, num_channels=4), "num_groups"),
    (dict(num_groups=2, num_channels=4, eps=-1.0), "eps"),
])
def test_group_norm_rejects_bad_hyper_parameters(bad, message):
    with pytest.raises(ValueError, match=message):
        nn.GroupNorm(**bad)


def test_mixed_dtypes_are_rejected_as_the_other_norms_do():
    x = ember.randn(2, 4, 3, dtype=ember.float64)
    with pytest.raises(TypeError, match="group_norm: weight has dtype float32 but expected"):
        nn.GroupNorm(2, 4)(x)
    with pytest.raises(TypeError, match="instance_norm: weight has dtype float32"):
        nn.InstanceNorm1d(4, affine=True)(x)
    with pytest.raises(TypeError, match="instance_norm: running_mean has dtype float32"):
        nn.InstanceNorm1d(4, track_running_stats=True)(x)


def test_group_norm_rejects_bad_input():
    with pytest.raises(ember.ShapeError, match=r"group_norm.*divisible.*\(2, 6, 3\)"):
        F.group_norm(ember.randn(2, 6, 3), 4)
    with pytest.raises(ember.ShapeError, match="at least 2 dimensions"):
        F.group_norm(ember.randn(6), 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.group_norm(ember.randn(1, 4), 4)
    with pytest.raises(ember.ShapeError, match=r"weight of shape \(6,\).*got weight of shape"):
        F.group_norm(ember.randn(2, 6, 3), 3, ember.ones(4))


# ---------------------------------------------------------------- instance norm

def instance_norm_reference(x, weight=None, bias=None):
    return group_norm_reference(x, x.shape[1], weight, bias)


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 4, 3), (2, 2, 2, 3, 2)], ids=str)
def test_instance_norm_forward_and_gradients(shape):
    x, w, b = randn(*shape) * 3 + 1, randn(shape[1], seed=1), randn(shape[1], seed=2)
    got = F.instance_norm(ember.tensor(x), weight=ember.tensor(w), bias=ember.tensor(b))
    assert_close(got, instance_norm_reference(x, w, b), rtol=1e-12, atol=1e-12)
    xt = ember.tensor(x, requires_grad=True)
    wt = ember.tensor(w, requires_grad=True)
    bt = ember.tensor(b, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (xt, wt, bt))


def test_instance_norm_updates_running_stats_as_pytorch_documents():
    # Each statistic moves by momentum toward the batch mean of the per-instance mean and
    # unbiased variance.
    x = randn(4, 3, 6) * 2 + 1
    mean, var = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    F.instance_norm(ember.tensor(x), mean, var, momentum=0.25)
    assert_close(mean, 0.25 * x.mean(2).mean(0), rtol=1e-12, atol=1e-12)
    assert_close(var, 0.75 + 0.25 * x.var(2, ddof=1).mean(0), rtol=1e-12, atol=1e-12)


def test_instance_norm_with_running_stats_normalizes_by_them_in_eval():
    m = nn.InstanceNorm1d(3, track_running_stats=True).double()
    x = randn(4, 3, 6) * 2 + 1
    m(ember.tensor(x))
    assert m.num_batches_tracked.item() == 0  # as in PyTorch: instance norm does not count
    m.eval()
    mean, var = m.running_mean.numpy(), m.running_var.numpy()
    want = (x - mean[:, None]) / np.sqrt(var[:, None] + EPS)
    assert_close(m(ember.tensor(x)), want, rtol=1e-12, atol=1e-12)
    # Without running statistics eval still uses the instance statistics.
    plain = nn.InstanceNorm1d(3).double().eval()
    assert_close(plain(ember.tensor(x)), instance_norm_reference(x), rtol=1e-12, atol=1e-12)


def test_instance_norm_modules_defaults_state_dict_and_repr():
    m = nn.InstanceNorm2d(4)
    assert (m.affine, m.track_running_stats) == (False, False)
    assert list(m.state_dict()) == [] and m.running_mean is None
    assert repr(m) == ("InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                       "track_running_stats=False)")
    full = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
    assert list(full.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                       "num_batches_tracked"]


@pytest.mark.parametrize("cls, shape", [(nn.InstanceNorm1d, (3, 5)),
                                        (nn.InstanceNorm2d, (3, 4, 2)),
                                        (nn.InstanceNorm3d, (3, 2, 2, 2))])
def test_instance_norm_accepts_unbatched_input(cls, shape):
    x = randn(*shape)
    got = cls(3).double()(ember.tensor(x))
    assert got.shape == shape
    assert_close(got, instance_norm_reference(x[None])[0], rtol=1e-12, atol=1e-12)


def test_instance_norm_rejects_bad_input():
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input \(got 2D"):
        nn.InstanceNorm2d(3)(ember.randn(3, 4))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(ember.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = nn.InstanceNorm1d(3)(ember.randn(2, 4, 5))
    assert out.shape == (2, 4, 5)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(ember.randn(2, 3, 1))
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.instance_norm(ember.randn(2, 3, 4), use_input_stats=False)


# ---------------------------------------------------------------- PyTorch parity

def _copy_weights(module, torch_module, torch):
    for name, p in module.named_parameters():
        getattr(torch_module, name).data = torch.tensor(p.detach().numpy())


@pytest.mark.parametrize("make", [
    lambda nn: nn.GroupNorm(3, 6), lambda nn: nn.GroupNorm(2, 6, affine=False),
    lambda nn: nn.InstanceNorm2d(6), lambda nn: nn.InstanceNorm2d(6, affine=True),
    lambda nn: nn.InstanceNorm2d(6, affine=True, track_running_stats=True, momentum=0.3),
])
def test_matches_pytorch_forward_backward_and_running_stats(make):
    torch = pytest.importorskip("torch")
    m, tm = make(nn), make(torch.nn)
    for p in m.parameters():
        p.data = ember.tensor(randn(*p.shape, seed=7).astype(np.float32))
    _copy_weights(m, tm, torch)
    x, g = randn(3, 6, 4, 5, seed=4) * 2 + 1, randn(3, 6, 4, 5, seed=5)
    for step in range(2):
        xe = ember.tensor(x.astype(np.float32), requires_grad=True)
        xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        ye, yt = m(xe), tm(xt)
        assert_close(ye, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
        ye.backward(ember.tensor(g.astype(np.float32)))
        yt.backward(torch.tensor(g, dtype=torch.float32))
        assert_close(xe.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name, p in m.named_parameters():
            assert_close(p.grad, getattr(tm, name).grad.numpy(), rtol=1e-4, atol=1e-4)
        for name, buf in m.named_buffers():
            assert_close(buf, getattr(tm, name).numpy(), rtol=1e-6, atol=1e-6)
        m.eval(), tm.eval()  # the second round: eval mode
    assert repr(m) == repr(tm)


def test_same_result_with_one_and_two_threads(restore_threads):
    x = randn(4, 6, 16, 16, seed=9).astype(np.float32)
    results = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        xt = ember.tensor(x, requires_grad=True)
        y = F.group_norm(xt, 3) + F.instance_norm(xt)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*results):
        assert_close(a, b, rtol=0, atol=0)
