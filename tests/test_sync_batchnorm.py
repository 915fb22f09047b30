"""nn.SyncBatchNorm in one process: the synchronised op's float64 gradients and forward against
NumPy (with world_size 1 it does the same arithmetic without messages), the fallback to batch
norm without a process group compared with PyTorch's SyncBatchNorm, convert_sync_batchnorm,
and bad input. Several ranks: tests/test_distributed.py."""
import numpy as np
import pytest

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.ops.sync_batch_norm import sync_batch_norm
from ember.testing import assert_close, gradcheck

SHAPES = [(5, 3), (4, 2, 3), (3, 2, 3, 2)]


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def batch_norm_reference(x, weight, bias, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axes).reshape(view)) / np.sqrt(x.var(axes).reshape(view) + eps)
    return y * weight.reshape(view) + bias.reshape(view)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sync_op_gradients_match_finite_differences(shape):
    x = ember.tensor(randn(*shape) * 2 + 1, requires_grad=True)
    w = ember.tensor(randn(shape[1], seed=1), requires_grad=True)
    b = ember.tensor(randn(shape[1], seed=2), requires_grad=True)
    assert gradcheck(lambda x, w, b: sync_batch_norm(x, w, b, None, None, 1e-5, 0.1), (x, w, b))
    assert gradcheck(lambda x: sync_batch_norm(x, None, None, None, None, 0.1, 0.1), (x,))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sync_op_forward_and_running_stats_match_numpy(shape, dtype):
    x, w, b = randn(*shape) * 3 + 100, randn(shape[1], seed=1), randn(shape[1], seed=2)
    mean = ember.tensor(np.full(shape[1], 0.5, dtype))
    var = ember.tensor(np.full(shape[1], 2.0, dtype))
    y = sync_batch_norm(ember.tensor(x.astype(dtype)), ember.tensor(w.astype(dtype)),
                        ember.tensor(b.astype(dtype)), mean, var, 1e-5, 0.25)
    assert y.dtype == mean.dtype
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert_close(y, batch_norm_reference(x, w, b, 1e-5), rtol=tol, atol=tol)
    axes = (0,) + tuple(range(2, x.ndim))
    assert_close(mean, 0.75 * 0.5 + 0.25 * x.mean(axes), rtol=tol, atol=tol)
    assert_close(var, 0.75 * 2.0 + 0.25 * x.var(axes, ddof=1), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sync_op_matches_pytorch_batch_norm_on_the_same_weights(shape):
    torch = pytest.importorskip("torch")
    x, w, b, g = (randn(*shape) * 2 + 3, randn(shape[1], seed=1), randn(shape[1], seed=2),
                  randn(*shape, seed=3))
    ours = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    stats = [ember.tensor(np.zeros(shape[1])), ember.tensor(np.ones(shape[1]))]
    torch_stats = [torch.zeros(shape[1], dtype=torch.float64),
                   torch.ones(shape[1], dtype=torch.float64)]
    y = sync_batch_norm(*ours, *stats, 1e-5, 0.1)
    y_ref = torch.nn.functional.batch_norm(theirs[0], *torch_stats, theirs[1], theirs[2],
                                           training=True, momentum=0.1, eps=1e-5)
    (y * ember.tensor(g)).sum().backward()
    (y_ref * torch.tensor(g)).sum().backward()
    assert_close(y, y_ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    for t, t_ref in zip(ours, theirs):
        assert_close(t.grad, t_ref.grad.numpy(), rtol=1e-10, atol=1e-12)
    for t, t_ref in zip(stats, torch_stats):
        assert_close(t, t_ref.numpy(), rtol=1e-12, atol=1e-12)


def _torch_and_ember_pair(torch, **kwargs):
    ours = nn.SyncBatchNorm(3, **kwargs).double()
    theirs = torch.nn.SyncBatchNorm(3, **kwargs).double()
    if ours.weight is not None:
        w, b = randn(3, seed=5), randn(3, seed=6)
        with ember.no_grad():
            ours.weight.copy_(ember.tensor(w))
            ours.bias.copy_(ember.tensor(b))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


@pytest.mark.parametrize("kwargs", [{}, dict(momentum=None), dict(affine=False),
                                    dict(track_running_stats=False)], ids=str)
def test_without_a_process_group_it_is_batch_norm_like_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    assert not dist.is_initialized()
    ours, theirs = _torch_and_ember_pair(torch, **kwargs)
    for step in range(2):
        x = randn(4, 3, 5, seed=10 + step) * 2 + 1
        g = randn(4, 3, 5, seed=20 + step)
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = ours(xe), theirs(xt)
        (ye * ember.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        assert_close(ye, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert_close(xe.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value.numpy(), rtol=1e-12, atol=1e-12)
    ours.eval()
    theirs.eval()
    x = randn(2, 3, 5, seed=30)
    assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12,
                 atol=1e-12)


def test_convert_sync_batchnorm_swaps_batch_norms_and_shares_their_state():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2),
                          nn.Sequential(nn.Flatten(), nn.BatchNorm1d(8, affine=False)))
    model.eval()
    weight, running_mean = model[1].weight, model[1].running_mean
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model  # converted in place, as PyTorch does
    assert type(model[1]) is nn.SyncBatchNorm and type(model[2][1]) is nn.SyncBatchNorm
    assert model[1].weight is weight and model[1].running_mean is running_mean
    assert not model[1].training and model[2][1].weight is None
    reference = torch.nn.SyncBatchNorm.convert_sync_batchnorm(torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(8, affine=False))))
    assert list(model.state_dict()) == list(reference.state_dict())
    assert repr(model[1]) == repr(reference[1])
    lone = nn.BatchNorm1d(4, momentum=0.3, eps=1e-3, bias=False)
    swapped = nn.SyncBatchNorm.convert_sync_batchnorm(lone)
    assert type(swapped) is nn.SyncBatchNorm and swapped is not lone
    assert (swapped.momentum, swapped.eps, swapped.bias) == (0.3, 1e-3, None)


def test_bad_input_and_arguments():
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        nn.SyncBatchNorm(3)(ember.ones(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        nn.SyncBatchNorm(3)(ember.ones(2, 0))
    with pytest.raises(ValueError, match="momentum"):
        nn.SyncBatchNorm(3, momentum=2.0)
    with pytest.raises(TypeError):
        nn.SyncBatchNorm(3, group=None)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        sync_batch_norm(ember.ones(1, 3), None, None, None, None, 1e-5, 0.1)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.SyncBatchNorm(3)(ember.ones(1, 3))
