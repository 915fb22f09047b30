"""Freezing in the PyTorch face, as in PyTorch: ``requires_grad_(False)`` on a module (or
``p.requires_grad = False``) leaves its parameters without ``.grad``, and optimizers built from
all parameters or from ``filter(lambda p: p.requires_grad, ...)`` do not change them."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import gradcheck

OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
]


def make_net(nn):
    """A conv feature extractor and a linear head; the same code in ember and in PyTorch."""
    features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten())
    return nn.Sequential(OrderedDict(features=features, head=nn.Linear(4 * 3 * 3, 3)))


def batch(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((8, 1, 6, 6)).astype(np.float32),
            rng.integers(0, 3, 8).astype(np.int64))


def snapshot(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("name,options", OPTIMIZERS)
@pytest.mark.parametrize("only_trainable", [False, True])
def test_frozen_module_gets_no_grad_and_no_update(name, options, only_trainable):
    ember.manual_seed(0)
    model = make_net(nn)
    assert model.features.requires_grad_(False) is model.features  # returns the module
    params = (filter(lambda p: p.requires_grad, model.parameters()) if only_trainable
              else model.parameters())
    optimizer = getattr(ember.optim, name)(params, **options)
    expected = 2 if only_trainable else 4
    assert sum(len(g["params"]) for g in optimizer.param_groups) == expected
    frozen, head = snapshot(model.features), snapshot(model.head)
    x, y = batch()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(ember.from_numpy(x)), ember.from_numpy(y)).backward()
        assert all(p.grad is None for p in model.features.parameters())
        assert all(p.grad is not None for p in model.head.parameters())
        optimizer.step()
    for before, p in zip(frozen, model.features.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), before)
    assert not np.array_equal(model.head.weight.detach().numpy(), head[0])


def test_requires_grad_attribute_and_unfreezing():
    model = make_net(nn)
    model.head.weight.requires_grad = False
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == ["head.weight"]
    x, y = batch()
    F.cross_entropy(model(ember.from_numpy(x)), ember.from_numpy(y)).backward()
    assert model.head.weight.grad is None and model.head.bias.grad is not None
    model.requires_grad_()  # (default True) unfreezes everything
    assert all(p.requires_grad for p in model.parameters())


def test_frozen_features_training_matches_pytorch():
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    ours = make_net(nn)
    theirs = make_net(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    for model in (ours, theirs):
        model.features.requires_grad_(False)
    opt_ours = ember.optim.SGD(filter(lambda p: p.requires_grad, ours.parameters()), lr=0.1,
                               momentum=0.9, weight_decay=0.01)
    opt_theirs = torch.optim.SGD(filter(lambda p: p.requires_grad, theirs.parameters()),
                                 lr=0.1, momentum=0.9, weight_decay=0.01)
    for step in range(4):
        x, y = batch(step)
        for lib, model, opt in ((ember, ours, opt_ours), (torch, theirs, opt_theirs)):
            opt.zero_grad()
            lib.nn.functional.cross_entropy(model(lib.from_numpy(x)),
                                            lib.from_numpy(y)).backward()
            opt.step()
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=key)
    assert [p.grad is None for p in ours.parameters()] == \
        [p.grad is None for p in theirs.parameters()]


def test_input_gradient_through_frozen_layers_matches_pytorch():
    """Saliency-style: frozen weights, but the input still gets its gradient."""
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    ours = make_net(nn).requires_grad_(False)
    theirs = make_net(torch.nn).requires_grad_(False)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    x, _ = batch()
    x_ours = ember.from_numpy(x).requires_grad_()
    x_theirs = torch.from_numpy(x).requires_grad_()
    ours(x_ours)[:, 1].sum().backward()
    theirs(x_theirs)[:, 1].sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    assert all(p.grad is None for p in ours.parameters())


def test_gradcheck_of_the_input_through_frozen_layers():
    ember.manual_seed(0)
    model = make_net(nn).double().requires_grad_(False)
    x = ember.tensor(np.random.default_rng(1).standard_normal((2, 1, 6, 6)),
                     dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: model(t), (x,))
