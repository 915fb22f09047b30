"""ember.optim against torch.optim: identical weights and gradients must give the same
trajectories for every optimizer option; plus param groups, state_dict, zero_grad and errors."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 5
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True,
                  maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True, eps=1e-6)),
]


def _ids(config):
    name, kw = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def _make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [nn.Parameter(ember.from_numpy(v.copy())) for v in values]
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    return ours, theirs


def _grad_sequence(dtype, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]


def _set_ember_grads(ours, grads):
    for p, g in zip(ours, grads):
        p.grad = ember.from_numpy(g.copy())


def _set_grads(ours, theirs, grads):
    _set_ember_grads(ours, grads)
    for q, g in zip(theirs, grads):
        q.grad = torch.from_numpy(g.copy())


def _assert_same(ours, theirs, dtype, msg=""):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **TOL[dtype],
                                   err_msg=f"{msg} parameter {i}")


def _assert_same_state(opt, topt, dtype):
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert ours[k].keys() == theirs[k].keys(), k
        for name in ours[k]:
            np.testing.assert_allclose(np.asarray(ours[k][name].numpy()),
                                       theirs[k][name].numpy(), **TOL[dtype],
                                       err_msg=f"state {k}/{name}")


def check_trajectory(name, kw, dtype, steps=STEPS):
    """Runs ember's and torch's optimizer on the same gradients, comparing the parameters after
    each step and the state at the end; returns ember's optimizer and parameters."""
    ours, theirs = _make_params(dtype)
    opt = getattr(optim, name)(ours, **kw)
    topt = getattr(torch.optim, name)(theirs, **kw)
    for step, grads in enumerate(_grad_sequence(dtype, steps)):
        _set_grads(ours, theirs, grads)
        opt.step()
        topt.step()
        _assert_same(ours, theirs, dtype, f"{name} step {step}")
    _assert_same_state(opt, topt, dtype)
    assert all(p.dtype == ember.from_numpy(np.zeros(1, dtype)).dtype for p in ours)
    return opt, ours


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_trajectory_matches_torch(config, dtype):
    check_trajectory(*config, dtype)


def test_defaults_match_torch():
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours, theirs = _make_params(np.float32)
        opt, topt = getattr(optim, name)(ours), getattr(torch.optim, name)(theirs)
        assert opt.defaults == topt.defaults, name
        assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"], name
        assert repr(opt) == repr(topt)


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                      ("Adam", dict(lr=0.05, amsgrad=True)),
                                      ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                      ("Adagrad", dict(lr=0.1))])
def test_tiny_model_training_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 1))
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 1)).double()
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    opt = getattr(optim, name)(model.parameters(), **kw)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kw)
    loss_fn, tloss_fn = nn.MSELoss(), torch.nn.MSELoss()
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model(ember.from_numpy(x)), ember.from_numpy(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = tloss_fn(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    _assert_same(list(model.parameters()), list(tmodel.parameters()), np.float64, name)


def test_param_groups_with_different_lr():
    ours, theirs = _make_params(np.float64)
    opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], lr=0.1,
                    momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}], lr=0.1,
                           momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    for grads in _grad_sequence(np.float64):
        _set_grads(ours, theirs, grads)
        opt.step()
        topt.step()
    _assert_same(ours, theirs, np.float64)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"] == topt.state_dict()["param_groups"]


def test_add_param_group_and_errors():
    ours, _ = _make_params(np.float32)
    opt = optim.Adam(ours[:1], lr=0.1)
    opt.add_param_group({"params": ours[1]})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["params"] == [ours[1]]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [ours[0]]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ours[2]}})
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(ours[0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([ours[0] * 2], lr=0.1)


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1, momentum=0.9)),
                                      ("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("AdamW", dict(lr=0.01)),
                                      ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                      ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_state_dict_round_trip_continues_identically(name, kw):
    grads = _grad_sequence(np.float64, steps=6)
    ours, theirs = _make_params(np.float64)
    opt = getattr(optim, name)(ours, **kw)
    topt = getattr(torch.optim, name)(theirs, **kw)
    for g in grads[:3]:
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
    saved = opt.state_dict()
    assert saved["param_groups"] == topt.state_dict()["param_groups"]
    # a fresh optimizer over copies of the parameters picks up exactly where the first one is
    clones = [nn.Parameter(ember.from_numpy(p.detach().numpy().copy())) for p in ours]
    resumed = getattr(optim, name)(clones, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == kw["lr"] and resumed.param_groups[0]["params"] == clones
    # the saved dict is a deep copy: mutating it must not reach either optimizer
    for entry in saved["state"].values():
        for value in entry.values():
            value._array[...] = 1e6
    for g in grads[3:]:
        _set_grads(ours, theirs, g)
        _set_ember_grads(clones, g)
        opt.step()
        topt.step()
        resumed.step()
    _assert_same(ours, theirs, np.float64, name)
    for p, q in zip(ours, clones):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_validates_groups_and_casts_dtype():
    ours, _ = _make_params(np.float64)
    opt = optim.Adam(ours, lr=0.01)
    _set_ember_grads(ours, _grad_sequence(np.float64, 1)[0])
    opt.step()
    f32 = [nn.Parameter(ember.from_numpy(p.detach().numpy().astype(np.float32))) for p in ours]
    opt32 = optim.Adam(f32, lr=0.01)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[f32[0]]["exp_avg"].dtype == ember.float32
    assert opt32.state[f32[0]]["step"].item() == 1.0
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": ours[:1]}, {"params": ours[1:]}]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam(ours[:2]).load_state_dict(opt.state_dict())


def test_zero_grad():
    ours, theirs = _make_params(np.float32)
    opt = optim.SGD(ours, lr=0.1)
    _set_grads(ours, theirs, _grad_sequence(np.float32, 1)[0])
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in ours)
    opt.zero_grad()
    assert all(p.grad is None for p in ours)


def test_param_without_grad_is_skipped():
    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                 "ASGD"):
        kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
        ours, theirs = _make_params(np.float64)
        opt = getattr(optim, name)(ours, **kw)
        topt = getattr(torch.optim, name)(theirs, **kw)
        before = ours[1].detach().numpy().copy()
        for grads in _grad_sequence(np.float64, steps=3):
            for p, q, g in zip(ours, theirs, grads):
                if p is not ours[1]:
                    p.grad, q.grad = ember.from_numpy(g.copy()), torch.from_numpy(g.copy())
            opt.step()
            topt.step()
        np.testing.assert_array_equal(ours[1].detach().numpy(), before)
        _assert_same(ours, theirs, np.float64, name)
        _assert_same_state(opt, topt, np.float64)
        # the parameter starts being updated (with fresh state) once it has a gradient
        for p, q, g in zip(ours, theirs, _grad_sequence(np.float64, steps=1, seed=7)[0]):
            p.grad, q.grad = ember.from_numpy(g.copy()), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        _assert_same(ours, theirs, np.float64, name)


def test_step_closure_returns_loss():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)


@pytest.mark.parametrize("name, kw, message", [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("AdamW", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
])
def test_bad_hyperparameters_raise_like_torch(name, kw, message):
    ours, theirs = _make_params(np.float32)
    with pytest.raises(ValueError) as ours_err:
        getattr(optim, name)(ours, **kw)
    with pytest.raises(ValueError) as theirs_err:
        getattr(torch.optim, name)(theirs, **kw)
    assert str(ours_err.value) == str(theirs_err.value) == message


def test_schedulers_match_torch():
    for name, kw in (("StepLR", dict(step_size=2, gamma=0.5)), ("ExponentialLR", dict(gamma=0.9))):
        ours, theirs = _make_params(np.float32)
        opt, topt = optim.SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)
        sched = getattr(optim.lr_scheduler, name)(opt, **kw)
        tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
        for _ in range(5):
            opt.step()
            topt.step()
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
            assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])


def test_deepcopy_optimizer_state_is_independent():
    ours, _ = _make_params(np.float64)
    opt = optim.Adam(ours)
    _set_ember_grads(ours, _grad_sequence(np.float64, 1)[0])
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    assert sd["state"][0]["exp_avg"] is not opt.state[ours[0]]["exp_avg"]


def test_loads_a_torch_optimizer_state_dict_and_continues_identically():
    x = np.random.default_rng(0).standard_normal((4, 3))
    tmodel = torch.nn.Linear(3, 2).double()
    model = nn.Linear(3, 2).double()
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01, amsgrad=True)
    tmodel(torch.from_numpy(x)).sum().backward()
    topt.step()
    model.load_state_dict({k: v.numpy() for k, v in tmodel.state_dict().items()})
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    opt.load_state_dict(topt.state_dict())  # torch tensors in the state are converted
    assert opt.state[model.weight]["step"].item() == 1.0
    for _ in range(3):
        topt.zero_grad()
        (tmodel(torch.from_numpy(x)) ** 2).sum().backward()
        topt.step()
        opt.zero_grad()
        (model(ember.from_numpy(x)) ** 2).sum().backward()
        opt.step()
    _assert_same(list(model.parameters()), list(tmodel.parameters()), np.float64)


def test_adagrad_state_exists_at_construction_and_for_added_groups():
    ours, theirs = _make_params(np.float64)
    opt = optim.Adagrad(ours[:2], lr=0.1, initial_accumulator_value=0.2)
    topt = torch.optim.Adagrad(theirs[:2], lr=0.1, initial_accumulator_value=0.2)
    _assert_same_state(opt, topt, np.float64)
    opt.add_param_group({"params": [ours[2]], "lr": 0.05})
    topt.add_param_group({"params": [theirs[2]], "lr": 0.05})
    for grads in _grad_sequence(np.float64, steps=2):
        _set_grads(ours, theirs, grads)
        opt.step()
        topt.step()
    _assert_same(ours, theirs, np.float64)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_infinite_parameter_without_weight_decay_matches_torch(name):
    """With weight_decay=0 PyTorch never reads the parameter into the gradient, so an infinite
    entry does not turn its update (or its neighbours' state) into NaN."""
    kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    if name == "AdamW":
        kw["weight_decay"] = 0.0
    values = np.array([1.0, np.inf, -np.inf, 2.0])
    ours = [nn.Parameter(ember.from_numpy(values.copy()))]
    theirs = [torch.nn.Parameter(torch.from_numpy(values.copy()))]
    opt, topt = getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)
    for grads in _grad_sequence(np.float64, 3, seed=2):
        g = np.resize(grads[0], 4)
        ours[0].grad, theirs[0].grad = ember.from_numpy(g.copy()), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours[0].detach().numpy(), theirs[0].detach().numpy(), rtol=1e-12)
    assert np.isinf(ours[0].detach().numpy()[1:3]).all()
