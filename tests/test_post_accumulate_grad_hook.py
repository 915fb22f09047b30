"""Tensor.register_post_accumulate_grad_hook (what DistributedDataParallel starts its bucket
all_reduces from): once per backward, after the leaf's last gradient of that backward has been
accumulated, in no_grad mode, as PyTorch runs it; and compared with PyTorch on the same model."""
import gc

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import post_accumulate_hooks


def _record(calls, lib=ember):
    def hook(p):
        calls.append((p.grad.numpy().copy(), lib.is_grad_enabled()))
    return hook


def _shared_weight_loss(w, x):
    """w takes part twice (weight sharing): its gradient arrives in two pieces."""
    return ((x @ w).tanh() @ w).sum() + (w * w).sum()


def test_runs_once_per_backward_with_the_whole_gradient_like_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0, x0 = rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    results = []
    for lib in (ember, torch):
        w = lib.tensor(w0, requires_grad=True)
        calls = []
        w.register_post_accumulate_grad_hook(_record(calls, lib))
        for _ in range(2):  # the second call sees the sum of both backwards
            _shared_weight_loss(w, lib.tensor(x0)).backward()
        results.append(calls)
    ours, theirs = results
    assert len(ours) == len(theirs) == 2
    for (g, grad_mode), (g_ref, grad_mode_ref) in zip(ours, theirs):
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-12)
        assert grad_mode is grad_mode_ref is False
    np.testing.assert_allclose(ours[1][0], 2 * ours[0][0], rtol=1e-12)


def test_the_last_layer_is_ready_before_the_first_layer_has_a_gradient():
    """What lets DDP start the last layers' all_reduce while backward still runs."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))
        first = model[0].weight
        model[2].weight.register_post_accumulate_grad_hook(
            lambda p, first=first, lib=lib: seen.update({lib.__name__: first.grad is None}))
        model(lib.ones(3, 4)).sum().backward()
        assert first.grad is not None
    assert seen == {"ember": True, "torch": True}


def test_a_leaf_used_as_the_root_of_backward_runs_its_hook():
    # PyTorch's docstring example: a hook that takes an SGD step
    v = ember.tensor([0.0, 0.0, 0.0], requires_grad=True)

    def sgd_step(p):
        p.sub_(0.01 * p.grad)  # in place on a leaf: allowed, as the hook runs in no_grad mode
    handle = v.register_post_accumulate_grad_hook(sgd_step)
    v.backward(ember.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(v.detach().numpy(), [-0.01, -0.02, -0.03], rtol=1e-6)
    handle.remove()
    v.backward(ember.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(v.detach().numpy(), [-0.01, -0.02, -0.03], rtol=1e-6)


def test_removed_hooks_and_autograd_grad_do_not_run_them():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    calls, other = [], []
    handle = w.register_post_accumulate_grad_hook(_record(calls))
    w.register_post_accumulate_grad_hook(_record(other))
    ember.autograd.grad((w * w).sum(), w)  # nothing is accumulated into .grad
    assert calls == [] and other == [] and w.grad is None
    handle.remove()
    (w * 3).sum().backward()
    assert calls == [] and len(other) == 1


def test_a_leaf_this_backward_does_not_reach_keeps_its_hook_quiet():
    a = ember.tensor([1.0], requires_grad=True)
    b = ember.tensor([2.0], requires_grad=True)
    calls = []
    b.register_post_accumulate_grad_hook(_record(calls))
    (a * 2).sum().backward()
    assert calls == []
    (a * b).sum().backward()
    assert len(calls) == 1


def test_hooks_go_with_their_tensor():
    gc.collect()  # tensors earlier tests left behind
    before = len(post_accumulate_hooks._hooks)
    module = nn.Linear(2, 2)
    for p in module.parameters():
        p.register_post_accumulate_grad_hook(lambda p: None)
    assert post_accumulate_hooks.active() and len(post_accumulate_hooks._hooks) == before + 2
    del module, p
    gc.collect()
    assert len(post_accumulate_hooks._hooks) == before


def test_bad_registrations_raise_as_pytorch_does():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    leaf = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf tensors"):
        (leaf * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(TypeError, match="hook must be callable, got int"):
        leaf.register_post_accumulate_grad_hook(3)


def test_a_hook_returning_a_value_is_refused_as_pytorch_does():
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        handle = w.register_post_accumulate_grad_hook(lambda p: p * 2)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
            (w * w).sum().backward()
        handle.remove()
        w.register_post_accumulate_grad_hook(lambda p: True)
        with pytest.raises(TypeError, match="hook returned 'bool'"):
            (w * w).sum().backward()
