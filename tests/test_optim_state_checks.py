"""Optimizer and scheduler state a user sets is checked when set: hyper-parameters assigned to a
param group, and every part of a loaded state_dict (structure, counts, state shapes and dtypes,
hyper-parameter types). A refused state_dict leaves the optimizer exactly as it was."""
import copy

import numpy as np
import pytest

import ember


def _adam():
    w = ember.nn.Parameter(ember.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)))
    b = ember.nn.Parameter(ember.tensor(np.array([1.0, -1.0], np.float32)))
    opt = ember.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, amsgrad=True)
    w.grad, b.grad = ember.ones(2, 3), ember.ones(2)
    opt.step()
    return (w, b), opt


def _snapshot(params, opt):
    """What the optimizer would do next: the parameters after one more identical step."""
    params = [ember.nn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in params]
    clone = type(opt)([{"params": [p]} for p in params])
    clone.load_state_dict(opt.state_dict())
    for p in params:
        p.grad = ember.ones(*p.shape)
    clone.step()
    return [p.detach().numpy() for p in params], opt.state_dict()["param_groups"]


def _mutations():
    def state(name, value):
        return lambda sd: sd["state"][0].__setitem__(name, value)

    def group(key, value, i=0):
        return lambda sd: sd["param_groups"][i].__setitem__(key, value)
    return {
        "exp_avg wrong shape": (state("exp_avg", ember.zeros(3, 2)), ValueError,
                                r"Adam.load_state_dict: state\[0\]\['exp_avg'\] has shape "
                                r"\(3, 2\), but its parameter has shape \(2, 3\)"),
        "exp_avg_sq wrong size": (state("exp_avg_sq", ember.zeros(7)), ValueError, "has shape"),
        "exp_avg integer": (state("exp_avg", ember.zeros(2, 3, dtype=ember.int64)), TypeError,
                            "must be a floating-point tensor"),
        "exp_avg a string": (state("exp_avg", "abc"), TypeError,
                             r"must be a tensor of the parameter's shape \(2, 3\)"),
        "max_exp_avg_sq None": (state("max_exp_avg_sq", None), TypeError, "must be a tensor"),
        "lr a string": (group("lr", "x"), TypeError,
                        r"Adam: param_group\['lr'\] must be a real number, got str"),
        "lr NaN": (group("lr", float("nan")), ValueError, r"param_group\['lr'\] must be finite"),
        "eps None": (group("eps", None), TypeError, r"param_group\['eps'\] must be a real number"),
        "betas too short": (group("betas", (0.9,)), TypeError,
                            r"param_group\['betas'\] must be a tuple of 2 finite numbers"),
        "amsgrad an int": (group("amsgrad", 1, 1), TypeError,
                           r"param_group\['amsgrad'\] must be a bool"),
        "a group too many": (lambda sd: sd["param_groups"].append(
            dict(sd["param_groups"][0], params=[7])), ValueError, "different number of parameter"),
        "a param too many": (lambda sd: sd["param_groups"][0]["params"].append(9), ValueError,
                             "doesn't match the size of optimizer's group"),
        "params not a list": (group("params", 3), ValueError, "each with a 'params' list"),
        "no state key": (lambda sd: sd.pop("state"), ValueError,
                         "expected a dict with keys 'state' and 'param_groups'"),
        "state entry not a dict": (lambda sd: sd["state"].__setitem__(0, [1, 2]), ValueError,
                                   "'state' must map parameter indices to dicts"),
    }


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_a_bad_state_dict_is_refused_and_the_optimizer_kept(name):
    mutate, error, message = _mutations()[name]
    params, opt = _adam()
    before = _snapshot(params, opt)
    saved = opt.state_dict()
    mutate(saved)
    with pytest.raises(error, match=message):
        opt.load_state_dict(saved)
    after = _snapshot(params, opt)
    for x, y in zip(before[0], after[0]):
        np.testing.assert_array_equal(x, y)
    assert before[1] == after[1]


@pytest.mark.parametrize("target", ["list", "none", "str"])
def test_a_state_dict_that_is_not_a_dict_is_refused(target):
    _, opt = _adam()
    with pytest.raises(ValueError, match="Adam.load_state_dict: expected a dict"):
        opt.load_state_dict({"list": [], "none": None, "str": "state"}[target])


def test_a_valid_state_dict_still_round_trips_and_continues_identically():
    params, opt = _adam()
    saved = copy.deepcopy(opt.state_dict())
    opt2 = ember.optim.Adam([{"params": [params[0]]}, {"params": [params[1]]}])
    opt2.load_state_dict(saved)
    assert _snapshot(params, opt)[1] == _snapshot(params, opt2)[1]
    for x, y in zip(_snapshot(params, opt)[0], _snapshot(params, opt2)[0]):
        np.testing.assert_array_equal(x, y)


def test_a_float64_state_is_cast_to_the_parameter_dtype_as_in_pytorch():
    params, opt = _adam()
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"] = ember.zeros(2, 3, dtype=ember.float64)
    opt.load_state_dict(saved)
    assert opt.state[params[0]]["exp_avg"].dtype == ember.float32


@pytest.mark.parametrize("key,value,error,message", [
    ("lr", "x", TypeError, r"SGD: param_group\['lr'\] must be a real number, got str 'x'"),
    ("lr", None, TypeError, r"param_group\['lr'\] must be a real number, got NoneType"),
    ("lr", float("inf"), ValueError, r"param_group\['lr'\] must be finite"),
    ("momentum", [0.9], TypeError, r"param_group\['momentum'\] must be a real number"),
    ("nesterov", "yes", TypeError, r"param_group\['nesterov'\] must be a bool"),
])
def test_assigning_a_bad_hyperparameter_is_refused_at_once(key, value, error, message):
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.5)
    with pytest.raises(error, match=message):
        opt.param_groups[0][key] = value
    with pytest.raises(error, match=message):
        opt.param_groups[0].update({key: value})
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.5
    p.grad = ember.ones(2)
    opt.step()  # the optimizer still works
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9])


def test_valid_hyperparameter_assignments_and_add_param_group_are_checked_alike():
    p, q = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.Adam([p])
    opt.param_groups[0]["lr"] = 1  # an int, a NumPy number, a one-element tensor: all numbers
    opt.param_groups[0]["lr"] = np.float32(0.5)
    opt.param_groups[0]["lr"] = ember.tensor(0.25)
    opt.param_groups[0]["name"] = "anything"  # keys the optimizer does not use are free
    with pytest.raises(TypeError, match=r"param_group\['betas'\] must be a tuple of 2"):
        opt.add_param_group({"params": [q], "betas": (0.9, "x")})
    assert len(opt.param_groups) == 1
    assert copy.deepcopy(opt).param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_lr_schedulers_still_drive_the_checked_groups():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=1.0)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.125)


def _step_lr():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p, ember.nn.Parameter(ember.ones(1))], lr=1.0)
    return ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)


@pytest.mark.parametrize("key,value,error,message", [
    ("step_size", "x", TypeError, "StepLR.load_state_dict: 'step_size' must be an integer"),
    ("step_size", 1.5, TypeError, "'step_size' must be an integer"),
    ("last_epoch", "x", TypeError, "'last_epoch' must be a real number"),
    ("gamma", float("nan"), ValueError, "'gamma' is NaN"),
    ("base_lrs", [1.0, 2.0], ValueError, "'base_lrs' has 2 values, but the optimizer has 1"),
    ("base_lrs", ["a"], TypeError, "'base_lrs' must be a list of 1 finite numbers"),
    ("_is_initial", 0, TypeError, "'_is_initial' must be a bool"),
])
def test_a_bad_scheduler_state_is_refused_and_the_scheduler_kept(key, value, error, message):
    sched = _step_lr()
    before = sched.state_dict()
    bad = dict(before, **{key: value})
    with pytest.raises(error, match=message):
        sched.load_state_dict(bad)
    assert sched.state_dict() == before
    sched.optimizer.step()
    sched.step()


def test_a_scheduler_state_that_is_not_a_dict_is_refused():
    with pytest.raises(TypeError, match="StepLR.load_state_dict: expected a dict"):
        _step_lr().load_state_dict([("step_size", 3)])


def test_a_composite_scheduler_checks_its_inner_states():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=1.0)
    s = ember.optim.lr_scheduler
    chained = s.ChainedScheduler([s.StepLR(opt, 2), s.ExponentialLR(opt, 0.9)])
    saved = chained.state_dict()
    bad = dict(saved, _schedulers=saved["_schedulers"][:1])
    with pytest.raises(ValueError, match="'_schedulers' must list the state of its 2"):
        chained.load_state_dict(bad)
    bad = dict(saved, _schedulers=[dict(saved["_schedulers"][0], step_size="x"),
                                   saved["_schedulers"][1]])
    with pytest.raises(TypeError, match="'step_size' must be an integer"):
        chained.load_state_dict(bad)
    chained.load_state_dict(saved)


@pytest.mark.parametrize("make,message", [
    (lambda p: ember.optim.SGD(p, lr=0.1, maximize="abc"), "SGD: maximize must be a bool"),
    (lambda p: ember.optim.SGD(p, lr=0.1, dampening=None), "SGD: dampening must be a real"),
    (lambda p: ember.optim.Adam(p, betas={"a": 1}), "Adam: betas must be a tuple of 2 finite"),
    (lambda p: ember.optim.Adam(p, betas=(0.9, "x")), "Adam: betas must be a tuple of 2"),
    (lambda p: ember.optim.AdamW(p, amsgrad="yes"), "AdamW: amsgrad must be a bool"),
    (lambda p: ember.optim.RMSprop(p, centered=None), "RMSprop: centered must be a bool"),
    (lambda p: ember.optim.LBFGS(p, tolerance_grad="abc"), "LBFGS: tolerance_grad must be a"),
    (lambda p: ember.optim.Adagrad(p, lr=[0.1]), "Adagrad: lr must be a real number"),
])
def test_constructor_arguments_of_the_wrong_kind_are_refused_before_any_step(make, message):
    """These used to be accepted and then failed inside the kernel's binding at the first
    step() (pybind11's signature dump) or in a subscript (KeyError)."""
    with pytest.raises(TypeError, match=message):
        make([ember.nn.Parameter(ember.ones(2))])


def test_constructor_checks_keep_range_checks_and_valid_calls():
    p = [ember.nn.Parameter(ember.ones(2))]
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.Adam(p, lr=-1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        ember.optim.Adam(p, foo=1)
    opt = ember.optim.SGD(p, 0.1, 0.9, nesterov=True)  # positional hyper-parameters too
    assert opt.param_groups[0]["momentum"] == 0.9
    ember.optim.Adam(p, lr=ember.tensor(0.01), betas=[0.8, 0.9])
