"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr (and cycled momentum)
sequence over 120+ steps for three parameter groups, state_dict round trips that continue
identically, torch checkpoints that load into ember, and PyTorch's errors and warnings."""
import math
import pickle
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 130
LRS = (0.1, 0.05, 0.01)


class Warmup:
    """A callable object: its attributes are saved in LambdaLR's state_dict."""

    def __init__(self, warmup):
        self.warmup = warmup

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.warmup) * 0.97 ** epoch


# (scheduler name, optimizer name, optimizer kwargs, scheduler kwargs as a function of the
# library's scheduler module, so that composite schedulers can build their parts).
def _sched(name, **kw):
    return lambda mod, opt: getattr(mod, name)(opt, **kw)


CASES = {
    "StepLR": ("SGD", {}, _sched("StepLR", step_size=7, gamma=0.5)),
    "StepLR-default-gamma": ("SGD", {}, _sched("StepLR", step_size=30)),
    "ExponentialLR": ("SGD", {}, _sched("ExponentialLR", gamma=0.97)),
    "LambdaLR": ("SGD", {}, _sched("LambdaLR", lr_lambda=lambda e: 0.95 ** e)),
    "LambdaLR-per-group": ("SGD", {}, _sched(
        "LambdaLR", lr_lambda=[lambda e: 1 / (e + 1), Warmup(10), lambda e: 0.5 ** (e // 20)])),
    "MultiplicativeLR": ("SGD", {}, _sched("MultiplicativeLR", lr_lambda=lambda e: 0.98)),
    "MultiStepLR": ("SGD", {}, _sched("MultiStepLR", milestones=[10, 40, 40, 90], gamma=0.3)),
    "ConstantLR": ("SGD", {}, _sched("ConstantLR", factor=0.25, total_iters=17)),
    "ConstantLR-defaults": ("SGD", {}, _sched("ConstantLR")),
    "LinearLR": ("SGD", {}, _sched("LinearLR", start_factor=0.1, end_factor=0.9,
                                   total_iters=60)),
    "LinearLR-defaults": ("SGD", {}, _sched("LinearLR")),
    "PolynomialLR": ("SGD", {}, _sched("PolynomialLR", total_iters=100, power=2.0)),
    "PolynomialLR-defaults": ("SGD", {}, _sched("PolynomialLR")),
    "CosineAnnealingLR": ("SGD", {}, _sched("CosineAnnealingLR", T_max=40, eta_min=1e-3)),
    "CosineAnnealingLR-zero-min": ("SGD", {}, _sched("CosineAnnealingLR", T_max=25)),
    "CosineAnnealingWarmRestarts": ("SGD", {}, _sched("CosineAnnealingWarmRestarts", T_0=10,
                                                      eta_min=1e-4)),
    "CosineAnnealingWarmRestarts-T_mult": ("SGD", {}, _sched("CosineAnnealingWarmRestarts",
                                                             T_0=5, T_mult=2)),
    "CyclicLR": ("SGD", dict(momentum=0.9), _sched("CyclicLR", base_lr=0.001, max_lr=0.1,
                                                   step_size_up=15)),
    "CyclicLR-triangular2": ("SGD", dict(momentum=0.9), _sched(
        "CyclicLR", base_lr=[0.001, 0.002, 0.003], max_lr=[0.1, 0.2, 0.3], step_size_up=10,
        step_size_down=20, mode="triangular2", base_momentum=0.7, max_momentum=0.95)),
    "CyclicLR-exp_range": ("SGD", dict(momentum=0.9), _sched(
        "CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=12, mode="exp_range",
        gamma=0.99)),
    "CyclicLR-scale_fn": ("SGD", {}, _sched(
        "CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=8, cycle_momentum=False,
        scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode="iterations")),
    "CyclicLR-adam-beta1": ("Adam", {}, _sched("CyclicLR", base_lr=0.001, max_lr=0.01,
                                               step_size_up=9)),
    "OneCycleLR": ("SGD", dict(momentum=0.9), _sched("OneCycleLR", max_lr=0.5,
                                                     total_steps=STEPS + 1)),
    "OneCycleLR-linear-three-phase": ("SGD", dict(momentum=0.9), _sched(
        "OneCycleLR", max_lr=[0.5, 0.3, 0.1], epochs=10, steps_per_epoch=14, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR-adam": ("Adam", {}, _sched("OneCycleLR", max_lr=0.01, total_steps=200,
                                           base_momentum=0.8, max_momentum=0.9)),
    "OneCycleLR-no-momentum": ("Adagrad", {}, _sched("OneCycleLR", max_lr=0.01,
                                                     total_steps=150, cycle_momentum=False)),
    "SequentialLR": ("SGD", {}, lambda mod, opt: mod.SequentialLR(
        opt, [mod.LinearLR(opt, start_factor=0.1, total_iters=10),
              mod.CosineAnnealingLR(opt, T_max=50),
              mod.ExponentialLR(opt, gamma=0.9)], milestones=[10, 60])),
    "ChainedScheduler": ("SGD", {}, lambda mod, opt: mod.ChainedScheduler(
        [mod.ConstantLR(opt, factor=0.5, total_iters=8),
         mod.ExponentialLR(opt, gamma=0.98),
         mod.MultiStepLR(opt, milestones=[30, 80], gamma=0.5)])),
}


def _params(lib, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((3, 2)), rng.standard_normal(4), rng.standard_normal(2)]
    if lib is torch:
        return [torch.nn.Parameter(torch.from_numpy(a)) for a in arrays]
    return [nn.Parameter(ember.from_numpy(a)) for a in arrays]


def _optimizer(lib, name, kw):
    groups = [{"params": [p], "lr": lr} for p, lr in zip(_params(lib), LRS)]
    return getattr(lib.optim, name)(groups, **kw)


def _hyper(opt):
    """What the schedulers drive, per group: lr and the momentum or beta1 if present."""
    values = [(g["lr"], g.get("momentum"), g["betas"][0] if "betas" in g else None)
              for g in opt.param_groups]
    return [v for triple in values for v in triple if v is not None]


def _pair(case):
    opt_name, opt_kw, build = CASES[case]
    opt, topt = _optimizer(ember, opt_name, opt_kw), _optimizer(torch, opt_name, opt_kw)
    return opt, topt, build(lr_scheduler, opt), build(torch.optim.lr_scheduler, topt)


def _step_both(opt, topt, sched, tsched, steps):
    """Steps both in the documented order, comparing after each step; returns group 0's lrs."""
    history = []
    for _ in range(steps):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert _hyper(opt) == pytest.approx(_hyper(topt), rel=1e-12, abs=1e-15)
        history.append(opt.param_groups[0]["lr"])
    return history


@pytest.mark.parametrize("case", CASES)
def test_lr_sequence_matches_torch(case):
    opt, topt, sched, tsched = _pair(case)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    assert _hyper(opt) == pytest.approx(_hyper(topt), rel=1e-12)
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    history = _step_both(opt, topt, sched, tsched, STEPS)
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    assert len(set(history)) > 1  # the schedule did move the lr


@pytest.mark.parametrize("case", CASES)
def test_state_dict_round_trip_continues_identically(case):
    opt, topt, sched, tsched = _pair(case)
    _step_both(opt, topt, sched, tsched, 45)
    saved_opt, saved = opt.state_dict(), pickle.loads(pickle.dumps(_picklable(sched)))
    # A fresh optimizer and scheduler resumed from the checkpoint.
    opt_name, opt_kw, build = CASES[case]
    opt2 = _optimizer(ember, opt_name, opt_kw)
    sched2 = build(lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == sched.get_last_lr()
    _step_both(opt2, topt, sched2, tsched, 60)


@pytest.mark.parametrize("case", ["MultiStepLR", "OneCycleLR-linear-three-phase", "CyclicLR",
                                  "SequentialLR", "LambdaLR-per-group"])
def test_checkpoint_through_ember_save_continues_identically(case, tmp_path):
    opt, topt, sched, tsched = _pair(case)
    _step_both(opt, topt, sched, tsched, 25)
    ember.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
               tmp_path / "ckpt.ember")
    checkpoint = ember.load(tmp_path / "ckpt.ember")
    opt_name, opt_kw, build = CASES[case]
    opt2 = _optimizer(ember, opt_name, opt_kw)
    sched2 = build(lr_scheduler, opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    _step_both(opt2, topt, sched2, tsched, 30)
    if case == "MultiStepLR":  # the closed form too (it needs the milestones as a Counter)
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched2.step(45)
        assert sched2.get_last_lr() == pytest.approx([lr * 0.3 ** 3 for lr in LRS])


def _picklable(sched):
    """state_dict() of a LambdaLR holds no functions; everything else is plain values."""
    return sched.state_dict()


@pytest.mark.parametrize("case", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "CyclicLR",
                                  "LambdaLR-per-group", "SequentialLR", "ChainedScheduler"])
def test_loads_a_torch_scheduler_state_dict(case):
    opt, topt, sched, tsched = _pair(case)
    _step_both(opt, topt, sched, tsched, 20)
    for _ in range(13):  # torch runs ahead; ember takes over from its checkpoint
        topt.step()
        tsched.step()
    opt.load_state_dict(_torch_optimizer_state(topt))
    sched.load_state_dict(tsched.state_dict())
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    _step_both(opt, topt, sched, tsched, 40)


def _torch_optimizer_state(topt):
    sd = topt.state_dict()
    return {"state": {}, "param_groups": sd["param_groups"]}


def test_lambda_lr_saves_callable_objects_not_functions():
    opt = _optimizer(ember, "SGD", {})
    warmup = Warmup(10)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, warmup, lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"warmup": 10}, None]
    sd["lr_lambdas"][1] = {"warmup": 3}
    sched.load_state_dict(sd)
    assert warmup.warmup == 3 and "lr_lambdas" in sd


@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
                                  "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
                                  "CosineAnnealingWarmRestarts-T_mult", "LambdaLR"])
def test_step_with_epoch_uses_the_closed_form_and_warns(case):
    opt, topt, sched, tsched = _pair(case)
    for epoch in (3, 17, 4, 60, 61.5 if "Warm" in case else 61):
        opt.step()
        topt.step()
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            sched.step(epoch)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            tsched.step(epoch)
        # Deprecated (a warning) in all but CosineAnnealingWarmRestarts, where it is documented.
        assert [type(w.message) for w in ours] == [type(w.message) for w in theirs]
        assert [("epoch parameter" in str(w.message)) for w in ours] == \
            [("epoch parameter" in str(w.message)) for w in theirs]
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert sched.last_epoch == tsched.last_epoch


def test_resuming_with_last_epoch():
    opt, topt = _optimizer(ember, "SGD", {}), _optimizer(torch, "SGD", {})
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    for g, tg in zip(opt.param_groups, topt.param_groups):
        g["initial_lr"] = tg["initial_lr"] = g["lr"] * 2
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10, last_epoch=4)
    assert sched.last_epoch == tsched.last_epoch == 5
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    _step_both(opt, topt, sched, tsched, 30)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs"),
    dict(mode="min", factor=0.3, patience=1, threshold=0.05, cooldown=3, min_lr=0.004),
    dict(mode="max", patience=0, threshold_mode="rel", min_lr=[1e-3, 1e-4, 1e-5], eps=1e-3),
]


@pytest.mark.parametrize("kw", PLATEAU, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_reduce_lr_on_plateau_matches_torch(kw):
    opt, topt = _optimizer(ember, "SGD", {}), _optimizer(torch, "SGD", {})
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kw)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    rng = np.random.default_rng(3)
    # A noisy metric that improves, stalls, improves a little, and stalls for good.
    metrics = np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 0.01 * rng.standard_normal(40),
                              np.linspace(0.5, 0.45, 20), np.full(60, 0.45)])
    if kw.get("mode") == "max":
        metrics = -metrics
    reductions = 0
    for i, m in enumerate(metrics):
        before = opt.param_groups[0]["lr"]
        sched.step(ember.tensor(float(m)) if i % 2 else float(m))  # tensors and floats
        tsched.step(torch.tensor(float(m)) if i % 2 else float(m))
        reductions += opt.param_groups[0]["lr"] < before
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch) == \
            (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter, tsched.last_epoch)
        if i == 70:  # round trip in the middle
            state = pickle.loads(pickle.dumps(sched.state_dict()))
            sched = lr_scheduler.ReduceLROnPlateau(opt, **kw)
            sched.load_state_dict(state)
    assert reductions >= 2


def test_reduce_lr_on_plateau_errors():
    opt = _optimizer(ember, "SGD", {})
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x")
    with pytest.raises(ValueError, match="expected 3 min_lrs, got 2"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())


@pytest.mark.parametrize("build, error, message", [
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "between 0 and 1"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "positive integer T_0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError, "T_mult"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.1, 0.2, mode="sine"), ValueError, "mode is invalid"),
    (lambda o: lr_scheduler.CyclicLR(o, [0.1], 0.2), ValueError,
     "base_lr must have the same length as optimizer.param_groups"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError, "either total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=0), ValueError, "total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=1), ValueError, "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 3 lr_lambdas"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError,
     "one more than the number of milestone"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []),
     ValueError, "does not support `ReduceLROnPlateau`"),
    (lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(_optimizer(ember, "SGD", {}), 2)]),
     ValueError, "same optimizer"),
    (lambda o: lr_scheduler.StepLR(object(), 2), TypeError, "is not an Optimizer"),
])
def test_bad_arguments_raise_as_torch(build, error, message):
    with pytest.raises(error, match=message):
        build(_optimizer(ember, "SGD", {}))


def test_cycling_momentum_needs_a_momentum():
    opt = _optimizer(ember, "Adagrad", {})
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)


def test_one_cycle_lr_refuses_to_run_past_total_steps():
    opt = _optimizer(ember, "SGD", dict(momentum=0.9))
    sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                         "total steps is 3"):
        sched.step()


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember, "SGD", {})
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = _optimizer(ember, "SGD", {})
    sched = lr_scheduler.StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
        sched.step()


def test_get_lr_outside_step_warns():
    sched = lr_scheduler.ExponentialLR(_optimizer(ember, "SGD", {}), 0.9)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_training_loop_with_a_scheduler_follows_torch():
    """A small regression model trained with SGD + OneCycleLR ends at the same weights."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    model, tmodel = nn.Linear(3, 1).double(), torch.nn.Linear(3, 1).double()
    model.load_state_dict({k: v.numpy() for k, v in tmodel.state_dict().items()})
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=40)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.1, total_steps=40)
    for _ in range(40):
        opt.zero_grad()
        ((model(ember.from_numpy(x)) - ember.from_numpy(y)) ** 2).mean().backward()
        opt.step()
        sched.step()
        topt.zero_grad()
        ((tmodel(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        topt.step()
        tsched.step()
    for p, q in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10)
    assert math.isclose(opt.param_groups[0]["momentum"], topt.param_groups[0]["momentum"])
