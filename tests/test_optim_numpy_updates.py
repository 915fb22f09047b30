"""Adadelta, Adamax, NAdam, RAdam and ASGD (NumPy updates) against torch.optim: identical
parameter trajectories and state for every option over 25 steps, a small model trained the same,
defaults, parameter groups, state_dict round trips and PyTorch's errors. (Parameters without a
gradient: test_optim.py::test_param_without_grad_is_skipped.)"""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from test_optim import (_assert_same, _assert_same_state, _grad_sequence, _make_params,
                        _set_ember_grads, _set_grads, check_trajectory)

torch = pytest.importorskip("torch")

STEPS = 25
NAMES = ("Adadelta", "Adamax", "NAdam", "RAdam", "ASGD")

CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6)),  # rectified from step 6 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=10)),  # averaging starts after t0
    ("ASGD", dict(lr=0.05, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=5, maximize=True)),
]


def _ids(config):
    name, kw = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_trajectory_matches_torch(config, dtype):
    opt, ours = check_trajectory(*config, dtype, steps=STEPS)
    for st in opt.state.values():
        assert st["step"].dtype == ember.float32
        assert all(v.dtype == ours[0].dtype for k, v in st.items()
                   if k not in ("step", "mu_product", "eta", "mu"))


def test_radam_takes_both_branches():
    """With beta2=0.9, rho_t passes 5 at step 6: the test above covers both update forms."""
    beta2 = 0.9
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t) for t in range(1, STEPS + 1)]
    assert rho[0] <= 5 < rho[-1]


def test_defaults_match_torch():
    for name in NAMES:
        ours, theirs = _make_params(np.float32)
        opt, topt = getattr(optim, name)(ours), getattr(torch.optim, name)(theirs)
        assert opt.defaults == topt.defaults, name
        assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"], name
        assert repr(opt) == repr(topt)


@pytest.mark.parametrize("name, kw", [("Adadelta", dict(lr=0.5)), ("Adamax", dict(lr=0.02)),
                                      ("NAdam", dict(lr=0.02, weight_decay=1e-3)),
                                      ("RAdam", dict(lr=0.02, decoupled_weight_decay=True,
                                                     weight_decay=1e-2)),
                                      ("ASGD", dict(lr=0.05, t0=10))])
def test_small_model_training_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                                 torch.nn.Linear(5, 1)).double()
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    opt = getattr(optim, name)(model.parameters(), **kw)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kw)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = nn.MSELoss()(model(ember.from_numpy(x)), ember.from_numpy(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.MSELoss()(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
        losses.append(loss.item())
    _assert_same(list(model.parameters()), list(tmodel.parameters()), np.float64, name)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options(name):
    ours, theirs = _make_params(np.float64)
    extra = {"Adadelta": dict(rho=0.7), "Adamax": dict(betas=(0.5, 0.9)),
             "NAdam": dict(momentum_decay=0.02, weight_decay=0.1, decoupled_weight_decay=True),
             "RAdam": dict(weight_decay=0.1, decoupled_weight_decay=True),
             "ASGD": dict(t0=3, lambd=0.01)}[name]

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": 0.03, **extra}]

    opt = getattr(optim, name)(groups(ours), lr=0.1)
    topt = getattr(torch.optim, name)(groups(theirs), lr=0.1)
    for grads in _grad_sequence(np.float64, steps=10):
        _set_grads(ours, theirs, grads)
        opt.step()
        topt.step()
    _assert_same(ours, theirs, np.float64, name)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_identically(name):
    """An optimizer resumed from ember's or PyTorch's state_dict continues as a PyTorch optimizer
    resumed from the same state (load_state_dict casts float state to the parameter's dtype)."""
    grads = _grad_sequence(np.float64, steps=12)
    ours, theirs = _make_params(np.float64)
    opt, topt = getattr(optim, name)(ours, lr=0.05), getattr(torch.optim, name)(theirs, lr=0.05)
    for g in grads[:6]:
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
    _assert_same(ours, theirs, np.float64, name)
    resumed = [[nn.Parameter(ember.from_numpy(p.detach().numpy().copy())) for p in ours]
               for _ in range(2)]
    tresumed = [torch.nn.Parameter(q.detach().clone()) for q in theirs]
    opts = [getattr(optim, name)(ps, lr=1.0) for ps in resumed]
    topt2 = getattr(torch.optim, name)(tresumed, lr=1.0)
    opts[0].load_state_dict(opt.state_dict())
    opts[1].load_state_dict(topt.state_dict())  # torch tensors in the state are converted
    topt2.load_state_dict(topt.state_dict())
    for g in grads[6:]:
        _set_grads(resumed[0], tresumed, g)
        _set_ember_grads(resumed[1], g)
        for o in (*opts, topt2):
            o.step()
    _assert_same(resumed[0], tresumed, np.float64, name + " resumed")
    _assert_same(resumed[1], tresumed, np.float64, name + " resumed from torch")
    _assert_same_state(opts[0], topt2, np.float64)


@pytest.mark.parametrize("name, kw", [
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1e-6)),
    ("Adadelta", dict(weight_decay=-0.1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1.0)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, 1.0))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-0.1)), ("NAdam", dict(betas=(0.9, -0.1))),
    ("NAdam", dict(momentum_decay=-0.004)), ("NAdam", dict(weight_decay=-1)),
    ("RAdam", dict(lr=-0.1)), ("RAdam", dict(eps=-1.0)), ("RAdam", dict(betas=(-0.1, 0.9))),
    ("RAdam", dict(weight_decay=-1)),
    ("ASGD", dict(lr=-0.1)), ("ASGD", dict(weight_decay=-1)),
])
def test_bad_hyperparameters_raise_like_torch(name, kw):
    ours, theirs = _make_params(np.float32)
    with pytest.raises(ValueError) as ours_err:
        getattr(optim, name)(ours, **kw)
    with pytest.raises(ValueError) as theirs_err:
        getattr(torch.optim, name)(theirs, **kw)
    assert str(ours_err.value) == str(theirs_err.value)


@pytest.mark.parametrize("name", NAMES)
def test_capturable_and_differentiable_are_refused(name):
    ours, _ = _make_params(np.float32)
    with pytest.raises(NotImplementedError, match=f"{name}: capturable=True"):
        getattr(optim, name)(ours, capturable=True)
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True"):
        getattr(optim, name)(ours, differentiable=True)


def test_read_only_parameter_arrays_are_updated():
    """A parameter built from a read-only array still updates (a copy becomes its storage)."""
    arr = np.ones(3)
    arr.flags.writeable = False
    p = nn.Parameter(ember.from_numpy(arr))
    opt = optim.NAdam([p], lr=0.1)
    p.grad = ember.from_numpy(np.ones(3))
    opt.step()
    assert np.all(p.detach().numpy() < 1.0) and np.all(arr == 1.0)
