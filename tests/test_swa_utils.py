"""ember.optim.swa_utils: AveragedModel (SWA and EMA averages, buffers followed or averaged),
update_bn and SWALR, against NumPy references and against torch.optim.swa_utils on the same
weights and steps (float64), plus their errors."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.optim import swa_utils
from ember.utils.data import DataLoader, TensorDataset


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.BatchNorm1d(5), lib.nn.ReLU(),
                             lib.nn.Linear(5, 2)).double()


def _copy_weights(src_torch, dst_ember):
    dst_ember.load_state_dict({k: v.detach().numpy() for k, v in src_torch.state_dict().items()})


def _snapshots(model, steps, seed=1):
    """Trains ``model`` (ember) with SGD and yields a copy of its parameters after each step."""
    rng = np.random.default_rng(seed)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x = ember.tensor(rng.standard_normal((8, 3)))
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        yield [p.detach().numpy().copy() for p in model.parameters()]


def test_default_average_is_the_mean_of_the_updates():
    model = _net(ember)
    swa = swa_utils.AveragedModel(model)
    seen = []
    for params in _snapshots(model, 6):
        swa.update_parameters(model)
        seen.append(params)
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), np.mean([s[i] for s in seen], axis=0),
                                   rtol=1e-12, atol=1e-14)
    assert int(swa.n_averaged) == 6
    # Buffers follow the model when use_buffers is False.
    for b_avg, b_model in zip(swa.module.buffers(), model.buffers()):
        np.testing.assert_array_equal(b_avg.numpy(), b_model.numpy())


@pytest.mark.parametrize("form", ["multi", "single"])
def test_ema_matches_the_recurrence(form):
    model = _net(ember)
    decay = 0.8
    fn = ({"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(decay)} if form == "multi"
          else {"avg_fn": swa_utils.get_ema_avg_fn(decay)})
    ema = swa_utils.AveragedModel(model, **fn)
    expected = None
    for params in _snapshots(model, 5):
        ema.update_parameters(model)
        expected = params if expected is None else [decay * e + (1 - decay) * p
                                                    for e, p in zip(expected, params)]
    for p, e in zip(ema.module.parameters(), expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-12, atol=1e-14)


def test_use_buffers_averages_the_running_statistics():
    model = _net(ember)
    swa = swa_utils.AveragedModel(model, use_buffers=True)
    means = []
    for _ in _snapshots(model, 4):
        swa.update_parameters(model)
        means.append(model[1].running_mean.numpy().copy())
    np.testing.assert_allclose(swa.module[1].running_mean.numpy(), np.mean(means, axis=0),
                               rtol=1e-12, atol=1e-14)


def test_the_copy_is_independent_and_forward_delegates():
    model = _net(ember).eval()
    swa = swa_utils.AveragedModel(model)
    x = ember.tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(swa(x).detach().numpy(), model(x).detach().numpy())
    with ember.no_grad():
        model[0].weight.add_(1.0)
    assert not np.array_equal(swa.module[0].weight.detach().numpy(),
                              model[0].weight.detach().numpy())
    assert list(swa.state_dict())[0] == "n_averaged"


def test_update_bn_recomputes_the_statistics_as_a_cumulative_average():
    model = _net(ember)
    model[1].momentum = 0.3
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((10, 3)) for _ in range(3)]
    loader = DataLoader(TensorDataset(ember.tensor(np.concatenate(batches)),
                                      ember.tensor(np.zeros(30))), batch_size=10)
    model.eval()
    swa_utils.update_bn(loader, model)
    hidden = [model[0](ember.tensor(b)).detach().numpy() for b in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(),
                               np.mean([h.mean(0) for h in hidden], axis=0), rtol=1e-12)
    np.testing.assert_allclose(model[1].running_var.numpy(),
                               np.mean([h.var(0, ddof=1) for h in hidden], axis=0), rtol=1e-12)
    assert model[1].momentum == 0.3 and not model.training
    # A model without BatchNorm: nothing to do, nothing run.
    swa_utils.update_bn([ember.ones(1)], nn.Linear(3, 1))


def _swalr_lrs(mod, steps, **kw):
    params = [mod.nn.Parameter(mod.zeros(2))]
    opt = mod.optim.SGD([{"params": params}, {"params": [mod.nn.Parameter(mod.zeros(1))],
                                               "lr": 0.5}], lr=1.0)
    sched = mod.optim.swa_utils.SWALR(opt, **kw)
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs, sched


@pytest.mark.parametrize("kw", [
    {"swa_lr": 0.05},
    {"swa_lr": [0.05, 0.2], "anneal_epochs": 3, "anneal_strategy": "linear"},
    {"swa_lr": 0.1, "anneal_epochs": 0},
    {"swa_lr": 0.01, "anneal_epochs": 5, "anneal_strategy": "cos"},
])
def test_swalr_anneals_to_swa_lr(kw):
    lrs, _ = _swalr_lrs(ember, 12, **kw)
    swa_lr = kw["swa_lr"] if isinstance(kw["swa_lr"], list) else [kw["swa_lr"]] * 2
    np.testing.assert_allclose(lrs[-1], swa_lr, rtol=1e-12)
    anneal = kw.get("anneal_epochs", 10)
    if anneal > 1 and kw.get("anneal_strategy", "cos") == "linear":
        # Halfway through a linear anneal the lr is halfway between start and swa_lr.
        start = [1.0, 0.5]
        t = 1 / anneal
        np.testing.assert_allclose(lrs[0], [s * (1 - t) + w * t for s, w in zip(start, swa_lr)],
                                   rtol=1e-12)


def test_errors():
    model = _net(ember)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(TypeError, match="nn.Module"):
        swa_utils.AveragedModel(np.zeros(3))
    for decay in (-0.1, 1.5, "x"):
        with pytest.raises(ValueError, match="Invalid decay value"):
            swa_utils.get_ema_multi_avg_fn(decay)
        with pytest.raises(ValueError, match="Invalid decay value"):
            swa_utils.get_ema_avg_fn(decay)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, swa_lr=0.01, anneal_strategy="exp")
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="anneal_epochs"):
            swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=bad)
    with pytest.raises(ValueError, match="swa_lr"):
        swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])
    swa = swa_utils.AveragedModel(model)
    with pytest.raises(ValueError, match="does not match"):
        swa.update_parameters(nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(),
                                            nn.Linear(6, 2)).double())


# --- against PyTorch on the same weights ---------------------------------------------------

def _train_both(steps, make_avg, seed=3):
    torch = pytest.importorskip("torch")
    t_model = _net(torch)
    e_model = _net(ember)
    _copy_weights(t_model, e_model)
    t_avg, e_avg = make_avg(torch, t_model), make_avg(ember, e_model)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.9)
    e_opt = optim.SGD(e_model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal((8, 3))
        for lib, model, opt, avg in ((torch, t_model, t_opt, t_avg),
                                     (ember, e_model, e_opt, e_avg)):
            opt.zero_grad()
            model(lib.tensor(x)).pow(2).mean().backward()
            opt.step()
            avg.update_parameters(model)
    return t_avg, e_avg


@pytest.mark.parametrize("name", ["swa", "ema-multi", "ema-single", "ema-buffers"])
def test_averaged_model_matches_torch(name):
    def make(lib, model):
        su = lib.optim.swa_utils
        kw = {"swa": {}, "ema-multi": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
              "ema-single": {"avg_fn": su.get_ema_avg_fn(0.9)},
              "ema-buffers": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.7),
                              "use_buffers": True}}[name]
        return su.AveragedModel(model, **kw)

    t_avg, e_avg = _train_both(7, make)
    t_state, e_state = t_avg.state_dict(), e_avg.state_dict()
    assert list(t_state) == list(e_state)
    for key in t_state:
        np.testing.assert_allclose(e_state[key].numpy(), t_state[key].numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=key)
    # A torch AveragedModel's checkpoint loads into ember's.
    fresh = make(ember, _net(ember))
    fresh.load_state_dict({k: v.numpy() for k, v in t_state.items()})
    assert int(fresh.n_averaged) == 7


def test_update_bn_matches_torch():
    torch = pytest.importorskip("torch")
    t_model, e_model = _net(torch), _net(ember)
    _copy_weights(t_model, e_model)
    x = np.random.default_rng(4).standard_normal((25, 3))
    t_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)),
                                           batch_size=10)
    e_loader = DataLoader(TensorDataset(ember.tensor(x)), batch_size=10)
    torch.optim.swa_utils.update_bn(t_loader, t_model)
    swa_utils.update_bn(e_loader, e_model)
    for key, value in t_model.state_dict().items():
        np.testing.assert_allclose(e_model.state_dict()[key].numpy(), value.numpy(),
                                   rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("kw", [
    {"swa_lr": 0.05},
    {"swa_lr": [0.05, 0.2], "anneal_epochs": 3, "anneal_strategy": "linear"},
    {"swa_lr": 0.1, "anneal_epochs": 0},
    {"swa_lr": 0.01, "anneal_epochs": 5},
])
def test_swalr_matches_torch(kw):
    torch = pytest.importorskip("torch")
    t_lrs, t_sched = _swalr_lrs(torch, 15, **kw)
    e_lrs, e_sched = _swalr_lrs(ember, 15, **kw)
    np.testing.assert_allclose(e_lrs, t_lrs, rtol=1e-13)
    assert e_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-13)


def test_swalr_state_dict_round_trip_continues_identically():
    lrs, sched = _swalr_lrs(ember, 4, swa_lr=0.05, anneal_epochs=8)
    state = copy.deepcopy(sched.state_dict())
    more = []
    for _ in range(3):
        sched.optimizer.step()
        sched.step()
        more.append(sched.get_last_lr())
    _, other = _swalr_lrs(ember, 4, swa_lr=0.05, anneal_epochs=8)
    other.load_state_dict(state)
    again = []
    for _ in range(3):
        other.optimizer.step()
        other.step()
        again.append(other.get_last_lr())
    assert again == more
