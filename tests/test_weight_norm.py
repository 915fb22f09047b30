"""Weight normalization (nn.utils.parametrizations.weight_norm and the legacy
nn.utils.weight_norm / remove_weight_norm) and the parametrize machinery under it: PyTorch's
parameter names and shapes, w = g v / ||v|| against NumPy, float64 gradients through g and v,
PyTorch parity on the same weights, and checkpoints in both formats."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import parametrize, remove_weight_norm, weight_norm
from ember.nn.utils.parametrizations import weight_norm as param_weight_norm
from ember.testing import assert_close, gradcheck


def legacy_weight_norm(module, **kwargs):
    with pytest.warns(FutureWarning, match="in favor of `torch.nn.utils.parametrizations"):
        return weight_norm(module, **kwargs)


def wn_reference(g, v, dim):
    if dim is None:
        return g * v / np.sqrt((v * v).sum())
    axes = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return g * v / np.sqrt((v * v).sum(axis=axes, keepdims=True))


def make(kind):
    ember.manual_seed(0)
    return {"linear": lambda: nn.Linear(4, 3), "conv": lambda: nn.Conv1d(2, 3, 3)}[kind]().double()


@pytest.mark.parametrize("kind, dim, g_shape", [("linear", 0, (3, 1)), ("linear", 1, (1, 4)),
                                                ("conv", 0, (3, 1, 1)), ("conv", 2, (1, 1, 3)),
                                                ("linear", None, ())])
def test_parametrization_names_shapes_and_value(kind, dim, g_shape):
    module = make(kind)
    before = module.weight.detach().numpy().copy()
    param_weight_norm(module, dim=dim)
    assert type(module).__name__ == "Parametrized" + ("Linear" if kind == "linear" else "Conv1d")
    assert list(module.state_dict()) == ["bias", "parametrizations.weight.original0",
                                         "parametrizations.weight.original1"]
    g = module.parametrizations.weight.original0
    v = module.parametrizations.weight.original1
    assert tuple(g.shape) == g_shape and isinstance(g, nn.Parameter)
    assert "weight" not in dict(module.named_parameters())
    assert_close(module.weight, before, rtol=1e-12, atol=1e-12)  # unchanged at first
    g.data = ember.tensor(g.detach().numpy() * 2 + 0.5)
    assert_close(module.weight, wn_reference(g.detach().numpy(), v.detach().numpy(), dim),
                 rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind, dim", [("linear", 0), ("conv", 0), ("conv", 1),
                                       ("linear", None)])
def test_gradients_through_g_and_v_match_finite_differences(kind, dim):
    module = param_weight_norm(make(kind), dim=dim)
    plist = module.parametrizations.weight
    x = ember.tensor(np.random.default_rng(0).standard_normal(
        (2, 4) if kind == "linear" else (2, 2, 5)), requires_grad=True)
    g0 = ember.tensor(plist.original0.detach().numpy() + 0.3, requires_grad=True)
    v0 = ember.tensor(plist.original1.detach().numpy().copy(), requires_grad=True)

    def f(x, g, v):
        plist._parameters["original0"], plist._parameters["original1"] = g, v
        return module(x)
    assert gradcheck(f, (x, g0, v0))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_matches_pytorch_parametrization(dim):
    torch = pytest.importorskip("torch")
    ours = param_weight_norm(make("conv").float(), dim=dim)
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(2, 3, 3), dim=dim)
    state = {k: v.detach().numpy() * 1.5 for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    ours.load_state_dict(state)
    x = np.random.default_rng(1).standard_normal((2, 2, 6)).astype(np.float32)
    ye, yt = ours(ember.tensor(x)), theirs(torch.tensor(x))
    assert_close(ye, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_close(ours.parametrizations.weight.original0.grad,
                 theirs.parametrizations.weight.original0.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert_close(ours.parametrizations.weight.original1.grad,
                 theirs.parametrizations.weight.original1.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert repr(ours) == repr(theirs)


def test_assigning_the_weight_sets_g_and_v_and_remove_keeps_its_value():
    module = param_weight_norm(make("linear"))
    target = np.arange(12, dtype=np.float64).reshape(3, 4) - 5
    module.weight = ember.tensor(target)
    assert_close(module.weight, target, rtol=1e-12, atol=1e-12)
    assert_close(module.parametrizations.weight.original0,
                 np.sqrt((target ** 2).sum(1, keepdims=True)), rtol=1e-12, atol=1e-12)
    parametrize.remove_parametrizations(module, "weight")
    assert type(module) is nn.Linear and not parametrize.is_parametrized(module)
    assert isinstance(module.weight, nn.Parameter)
    assert list(module.state_dict()) == ["bias", "weight"]  # re-registered last, as in PyTorch
    assert_close(module.weight, target, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(module, "weight")


def test_a_parametrized_module_trains_and_copies():
    module = param_weight_norm(make("linear"))
    opt = ember.optim.SGD(module.parameters(), lr=0.1)
    x, y = ember.randn(8, 4, dtype=ember.float64), ember.randn(8, 3, dtype=ember.float64)
    losses = []
    for _ in range(20):
        loss = ((module(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.9
    clone = copy.deepcopy(module)
    assert_close(clone(x), module(x))
    assert clone.parametrizations.weight.original1 is not module.parametrizations.weight.original1


def test_parametrize_generic_register_stack_and_cache():
    class Symmetric(nn.Module):
        def forward(self, x):
            return (x + x.t()) / 2

    class Double(nn.Module):
        calls = 0

        def forward(self, x):
            Double.calls += 1
            return x * 2

    ember.manual_seed(0)
    module = nn.Linear(3, 3).double()
    w = module.weight.detach().numpy().copy()
    parametrize.register_parametrization(module, "weight", Symmetric())
    parametrize.register_parametrization(module, "weight", Double())
    assert_close(module.weight, w + w.T)
    assert list(module.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert parametrize.is_parametrized(module, "weight")
    assert not parametrize.is_parametrized(module, "bias")
    assert parametrize.type_before_parametrizations(module) is nn.Linear
    Double.calls = 0
    with parametrize.cached():
        module.weight, module.weight
    assert Double.calls == 1
    with pytest.raises(ValueError, match="with name 'nothing'"):
        parametrize.register_parametrization(module, "nothing", Double())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:2]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        import pickle
        pickle.dumps(module)


# ---------------------------------------------------------------- legacy weight_norm

def test_legacy_names_values_gradients_and_removal():
    module = legacy_weight_norm(make("linear"))
    assert list(module.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert module.weight_g.shape == (3, 1) and module.weight_v.shape == (3, 4)
    assert "weight" not in dict(module.named_parameters())
    module.weight_g.data = module.weight_g.data * 3
    x = ember.randn(2, 4, dtype=ember.float64)
    want = x.numpy() @ wn_reference(module.weight_g.detach().numpy(),
                                    module.weight_v.detach().numpy(), 0).T
    assert_close(module(x), want + module.bias.detach().numpy(), rtol=1e-12, atol=1e-12)

    g0 = ember.tensor(module.weight_g.detach().numpy(), requires_grad=True)
    v0 = ember.tensor(module.weight_v.detach().numpy().copy(), requires_grad=True)

    def f(g, v):
        module._parameters["weight_g"], module._parameters["weight_v"] = g, v
        return module(x)
    assert gradcheck(f, (g0, v0))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        legacy_weight_norm(module)
    remove_weight_norm(module)
    assert list(module.state_dict()) == ["bias", "weight"]  # as in PyTorch
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(module)


def test_legacy_matches_pytorch_and_its_checkpoint_loads_into_the_parametrization():
    torch = pytest.importorskip("torch")
    with pytest.warns(FutureWarning):
        theirs = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=1)
    ours = legacy_weight_norm(make("linear").float(), dim=1)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    x = np.random.default_rng(2).standard_normal((2, 4)).astype(np.float32)
    assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                 atol=1e-5)
    new = param_weight_norm(make("linear").float(), dim=1)
    new.load_state_dict(state)  # weight_g/weight_v keys renamed, as PyTorch does
    assert_close(new(ember.tensor(x)), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                 atol=1e-5)


def test_weight_norm_on_a_recurrent_weight_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = param_weight_norm(nn.LSTM(3, 4).double(), "weight_hh_l0")
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.LSTM(3, 4).double(),
                                                         "weight_hh_l0")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((5, 2, 3))
    assert_close(ours(ember.tensor(x))[0], theirs(torch.tensor(x))[0].detach().numpy(),
                 rtol=1e-10, atol=1e-10)
