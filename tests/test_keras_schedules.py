"""keras.optimizers.schedules: values against real Keras at many steps, schedules driving every
optimizer (same weights as real Keras), learning_rate reads, configs, saving, errors."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_reference import real_keras, to_numpy

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8,
                              staircase=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=5, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.2, decay_steps=5, decay_rate=0.5,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 25, 60], values=[0.1, 0.05, 0.01, 0.001])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=40)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=40, end_learning_rate=0.01,
                             power=2.0, cycle=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=50)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=50, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=50, warmup_target=0.1,
                         warmup_steps=20, alpha=0.05)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=13)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.0,
                                 m_mul=0.5, alpha=0.1)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=9, t_mul=1.5,
                                 m_mul=0.8)),
]
IDS = [f"{name}{i}" for i, (name, _) in enumerate(SCHEDULES)]


@pytest.fixture(autouse=True)
def _fresh_names():
    ek.utils.clear_session()
    ember.manual_seed(0)


def _quiet(fn, *args):
    """Calls real Keras; its torch backend's float(variable) warns under NumPy 2 (not ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return fn(*args)


def _numpy_reference(name, kw, step):
    """The schedules' formulas, written out independently in float64."""
    lr0 = kw.get("initial_learning_rate")
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        p = step / kw["decay_steps"]
        p = np.floor(p) if kw.get("staircase") else p
        if name == "ExponentialDecay":
            return lr0 * kw["decay_rate"] ** p
        return lr0 / (1 + kw["decay_rate"] * p)
    if name == "PiecewiseConstantDecay":
        index = np.searchsorted(kw["boundaries"], step, side="left")
        return kw["values"][index]
    if name == "PolynomialDecay":
        end, steps = kw.get("end_learning_rate", 1e-4), kw["decay_steps"]
        if kw.get("cycle"):
            steps = steps * max(1, np.ceil(step / steps))
        else:
            step = min(step, steps)
        return (lr0 - end) * (1 - step / steps) ** kw.get("power", 1.0) + end
    alpha = kw.get("alpha", 0.0)
    if name == "CosineDecay":
        warm, target = kw.get("warmup_steps", 0), kw.get("warmup_target")
        if target is not None and step < warm:
            return lr0 + (target - lr0) * step / warm
        start = lr0 if target is None else target
        frac = min(step - warm, kw["decay_steps"]) / kw["decay_steps"]
        return start * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * frac)) + alpha)
    # CosineDecayRestarts: walk the periods.
    period, scale, start = float(kw["first_decay_steps"]), 1.0, 0.0
    while step >= start + period:
        start += period
        period *= kw.get("t_mul", 2.0)
        scale *= kw.get("m_mul", 1.0)
    frac = (step - start) / period
    return lr0 * ((1 - alpha) * scale * 0.5 * (1 + np.cos(np.pi * frac)) + alpha)


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=IDS)
def test_values_match_real_keras_and_a_numpy_reference(name, kw):
    keras = real_keras()
    ours = getattr(ek.optimizers.schedules, name)(**kw)
    theirs = getattr(keras.optimizers.schedules, name)(**kw)
    steps = list(range(0, 301))
    got = np.array([ours(s) for s in steps])
    assert all(type(ours(s)) is float for s in (0, 5))
    expected = np.array([float(to_numpy(theirs(s))) for s in steps])
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-9)
    np.testing.assert_allclose(got, [_numpy_reference(name, kw, s) for s in steps], rtol=1e-9,
                               atol=1e-12)


def test_restart_boundaries_restart():
    s = ek.optimizers.schedules.CosineDecayRestarts(0.1, first_decay_steps=13)
    assert [s(13 * k) for k in (0, 1, 3, 7)] == [pytest.approx(0.1)] * 4
    assert s(12) < 0.01


def test_schedule_step_argument_forms():
    s = ek.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert s(ember.tensor(10)) == s(10) == s(np.int64(10)) == pytest.approx(0.05)
    with pytest.raises(TypeError, match="step must be a number"):
        s("10")


# ---- schedules driving optimizers ------------------------------------------------------------
OPTIMIZERS = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.8, "nesterov": True}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("AdamW", {"weight_decay": 0.1}),
    ("RMSprop", {}), ("RMSprop", {"centered": True}), ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"momentum": 0.5, "centered": True, "rho": 0.8}), ("Adagrad", {}), ("Nadam", {}),
    ("Adamax", {}), ("Adadelta", {}), ("Ftrl", {"beta": 0.1}), ("Lion", {}),
    ("SGD", {"momentum": 0.9, "weight_decay": 0.05, "clipnorm": 0.5}),
]


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=[f"{c}{i}" for i, (c, _) in
                                                    enumerate(OPTIMIZERS)])
def test_every_optimizer_follows_a_schedule_as_real_keras(cls, kw):
    keras = real_keras()
    import torch
    rng = np.random.RandomState(2)
    p0 = rng.randn(4, 3).astype(np.float32)
    grads = [rng.randn(4, 3).astype(np.float32) for _ in range(15)]
    # Warmup from 0 then cosine decay: the rate is 0 at the first step and changes at each.
    # (Ftrl divides by the rate: it starts at 0.01 there.)
    sched = dict(initial_learning_rate=0.01 if cls == "Ftrl" else 0.0, decay_steps=8,
                 warmup_target=0.05, warmup_steps=5, alpha=0.1)
    ours = ek.optimizers.schedules.CosineDecay(**sched)
    theirs = keras.optimizers.schedules.CosineDecay(**sched)
    opt = getattr(ek.optimizers, cls)(learning_rate=ours, **kw)
    ref = getattr(keras.optimizers, cls)(learning_rate=theirs, **kw)
    param, var = ember.nn.Parameter(ember.tensor(p0.copy())), keras.Variable(p0.copy())
    for g in grads:
        opt.apply_gradients([(g, param)])
        _quiet(ref.apply_gradients, [(torch.tensor(g), var)])
        # Keras computes the rate in float32.
        assert opt.learning_rate == pytest.approx(float(to_numpy(ref.learning_rate)), rel=1e-5,
                                                  abs=1e-9)
    assert not np.allclose(param.detach().numpy(), p0)
    np.testing.assert_allclose(param.detach().numpy(), to_numpy(var.value), rtol=1e-5,
                               atol=2e-6)


def test_learning_rate_reads_the_current_value_and_is_not_settable():
    sched = ek.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.3, 0.2, 0.1])
    opt = ek.optimizers.SGD(learning_rate=sched, momentum=0.5)
    param = ember.nn.Parameter(ember.tensor(np.ones(2)))
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(2), param)])
    assert seen == [0.3, 0.3, 0.2, 0.1]
    with pytest.raises(TypeError, match="LearningRateSchedule.*not settable"):
        opt.learning_rate = 0.5
    opt.learning_rate = ek.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)  # as Keras
    assert opt.learning_rate == 1.0 / 16
    plain = ek.optimizers.Adam(0.1)
    plain.learning_rate = 0.05
    assert plain.learning_rate == 0.05


def test_schedule_set_after_some_steps_continues_keras_momentum():
    keras = real_keras()
    import torch
    rng = np.random.RandomState(6)
    p0 = rng.randn(3).astype(np.float32)
    grads = [rng.randn(3).astype(np.float32) for _ in range(6)]
    opt, ref = ek.optimizers.SGD(0.1, momentum=0.9), keras.optimizers.SGD(0.1, momentum=0.9)
    param, var = ember.nn.Parameter(ember.tensor(p0.copy())), keras.Variable(p0.copy())
    for i, g in enumerate(grads):
        if i == 3:
            opt.learning_rate = ek.optimizers.schedules.ExponentialDecay(0.2, 1, 0.5)
            ref.learning_rate = keras.optimizers.schedules.ExponentialDecay(0.2, 1, 0.5)
        opt.apply_gradients([(g, param)])
        _quiet(ref.apply_gradients, [(torch.tensor(g), var)])
    np.testing.assert_allclose(param.detach().numpy(), to_numpy(var.value), rtol=1e-5,
                               atol=1e-6)


def test_subclassed_schedule_and_callable_learning_rate():
    class HalfEachStep(ek.optimizers.schedules.LearningRateSchedule):
        def __init__(self, initial):
            self.initial = initial

        def __call__(self, step):
            return self.initial / 2 ** step

    opt = ek.optimizers.SGD(learning_rate=HalfEachStep(1.0))
    param = ember.nn.Parameter(ember.tensor(np.zeros(1)))
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), param)])
    np.testing.assert_allclose(param.detach().numpy(), [-(1 + 0.5 + 0.25)])
    with pytest.raises(NotImplementedError, match="HalfEachStep.*cannot serialize it"):
        opt.get_config()
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        ek.optimizers.schedules.LearningRateSchedule()(0)

    rate = [0.1]
    opt = ek.optimizers.SGD(learning_rate=lambda: rate[0])
    opt.apply_gradients([(np.ones(1), param)])
    rate[0] = 0.2
    assert opt.learning_rate == 0.2
    opt.apply_gradients([(np.ones(1), param)])
    np.testing.assert_allclose(param.detach().numpy(), [-(1.75 + 0.3)])
    with pytest.raises(NotImplementedError, match="callable learning_rate"):
        opt.get_config()


# ---- configs and saving ----------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", SCHEDULES, ids=IDS)
def test_configs_match_real_keras_and_round_trip(name, kw):
    keras = real_keras()
    ours = getattr(ek.optimizers.schedules, name)(**kw)
    theirs = getattr(keras.optimizers.schedules, name)(**kw)
    assert ours.get_config() == theirs.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    opt_config = ek.optimizers.Adam(learning_rate=ours).get_config()
    keras_config = _quiet(keras.optimizers.Adam(learning_rate=theirs).get_config)
    assert opt_config["learning_rate"] == keras_config["learning_rate"]
    rebuilt = ek.optimizers.Adam.from_config(opt_config)
    assert type(rebuilt._learning_rate) is type(ours)
    assert rebuilt.get_config() == opt_config


@pytest.mark.parametrize("cls", ["SGD", "RMSprop", "Nadam"])
def test_model_with_a_schedule_saves_and_resumes(tmp_path, cls):
    rng = np.random.RandomState(0)
    x = rng.randn(32, 4).astype(np.float32)
    y = rng.randn(32, 1).astype(np.float32)
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1)])
    sched = ek.optimizers.schedules.PiecewiseConstantDecay([3, 6], [0.1, 0.01, 0.001])
    extra = {} if cls == "Nadam" else {"momentum": 0.9}
    model.compile(optimizer=getattr(ek.optimizers, cls)(sched, **extra), loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    assert isinstance(loaded.optimizer._learning_rate, ek.optimizers.schedules.
                      PiecewiseConstantDecay)
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate == 0.01
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert model.optimizer.learning_rate == 0.001
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    s = ek.optimizers.schedules
    for cls in (s.ExponentialDecay, s.InverseTimeDecay):
        with pytest.raises(ValueError, match=f"{cls.__name__}.*decay_steps.*> 0"):
            cls(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="PolynomialDecay.*decay_steps"):
        s.PolynomialDecay(0.1, -3)
    with pytest.raises(ValueError, match="CosineDecay.*decay_steps"):
        s.CosineDecay(0.1, 0)
    with pytest.raises(ValueError, match="CosineDecayRestarts.*first_decay_steps"):
        s.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="PiecewiseConstantDecay.*1 less"):
        s.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="unknown learning rate schedule 'Nope'"):
        s.deserialize({"class_name": "Nope", "config": {}})
    rms = ek.optimizers.RMSprop(0.1, momentum=0.9)
    rms.apply_gradients([(np.ones(1), ember.nn.Parameter(ember.tensor(np.zeros(1))))])
    rms.learning_rate = s.ExponentialDecay(0.1, 5, 0.5)
    with pytest.raises(NotImplementedError, match="RMSprop.*schedule.*after the first.*momentum"):
        rms.apply_gradients([(np.ones(1), rms._params[0])])
    ftrl = ek.optimizers.Ftrl(learning_rate=s.PiecewiseConstantDecay([0], [0.1, 0.0]))
    param = ember.nn.Parameter(ember.tensor(np.zeros(1)))
    ftrl.apply_gradients([(np.ones(1), param)])
    with pytest.raises(ValueError, match="Ftrl.*learning rate must be > 0"):
        ftrl.apply_gradients([(np.ones(1), param)])
    with pytest.raises(ValueError, match="SGD.*learning_rate.*-1"):
        ek.optimizers.SGD(learning_rate=-1)
    opt = ek.optimizers.SGD(learning_rate=s.PiecewiseConstantDecay([0], [0.1, -0.1]))
    param = ember.nn.Parameter(ember.tensor(np.zeros(1)))
    opt.apply_gradients([(np.ones(1), param)])
    with pytest.raises(ValueError, match=r"SGD.*schedule's value.*-0\.1"):
        opt.apply_gradients([(np.ones(1), param)])
