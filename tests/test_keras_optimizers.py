"""Keras-face optimizers Nadam, Adamax, Adadelta, Ftrl and Lion: Keras 3's update rules (a
float64 NumPy transcription and real Keras on the same gradients), names, configs, saving."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_reference import real_keras, to_numpy

NEW = ["Nadam", "Adamax", "Adadelta", "Ftrl", "Lion"]


@pytest.fixture(autouse=True)
def _fresh_names():
    ek.utils.clear_session()
    ember.manual_seed(0)


def _keras_apply(optimizer, pairs):
    """Real Keras' apply_gradients; its torch Nadam converts a tensor with np.array(copy=False),
    which NumPy 2 deprecates (a warning in Keras' code, not ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        optimizer.apply_gradients(pairs)


def _keras_config(optimizer):
    with warnings.catch_warnings():  # float(variable.numpy()): the same NumPy 2 warning
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return optimizer.get_config()


def _gradients(shape=(4, 3), steps=12, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    p0 = rng.randn(*shape).astype(dtype)
    grads = [(rng.randn(*shape) * (0.1 if i % 2 else 1.0)).astype(dtype) for i in range(steps)]
    return p0, grads


def _reference(cls, kw, grads, p0):
    """NumPy transcription of Keras 3's update_step for each optimizer (float64)."""
    p = p0.copy()
    lr = kw.get("learning_rate", 0.001)
    wd = kw.get("weight_decay")
    b1, b2 = kw.get("beta_1", 0.9), kw.get("beta_2", 0.99 if cls == "Lion" else 0.999)
    eps = kw.get("epsilon", 1e-7)
    m, v = np.zeros_like(p), np.zeros_like(p)
    acc = np.full_like(p, kw.get("initial_accumulator_value", 0.1))
    u_product = 1.0
    for t, g in enumerate(grads, start=1):
        if wd:
            p = p - p * wd * lr
        if cls == "Nadam":
            u_t = b1 * (1 - 0.5 * 0.96 ** t)
            u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product *= u_t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
            p = p - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        elif cls == "Adamax":
            m = b1 * m + (1 - b1) * g
            v = np.maximum(b2 * v, np.abs(g))
            p = p - lr * m / ((1 - b1 ** t) * (v + eps))
        elif cls == "Adadelta":
            rho = kw.get("rho", 0.95)
            m = rho * m + (1 - rho) * g * g
            delta = -np.sqrt(v + eps) / np.sqrt(m + eps) * g
            v = rho * v + (1 - rho) * delta * delta
            p = p + lr * delta
        elif cls == "Ftrl":
            power = kw.get("learning_rate_power", -0.5)
            l1 = kw.get("l1_regularization_strength", 0.0)
            l2 = kw.get("l2_regularization_strength", 0.0) + kw.get("beta", 0.0) / (2 * lr)
            shrink = kw.get("l2_shrinkage_regularization_strength", 0.0)
            new_acc = acc + g * g
            m = m + g + 2 * shrink * p - (new_acc ** -power - acc ** -power) / lr * p
            p = (np.clip(m, -l1, l1) - m) / (new_acc ** -power / lr + 2 * l2)
            acc = new_acc
        elif cls == "Lion":
            p = p - lr * np.sign(b1 * m + (1 - b1) * g)
            m = b2 * m + (1 - b2) * g
    return p


CASES = [
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3,
               "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.02, "beta_1": 0.7, "beta_2": 0.8, "epsilon": 1e-2,
                "weight_decay": 0.05}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-3}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.7,
              "initial_accumulator_value": 0.3, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
              "beta": 0.5}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.2}),
]


@pytest.mark.parametrize("cls,kw", CASES)
def test_update_rules_match_a_numpy_transcription_of_keras(cls, kw):
    p0, grads = _gradients()
    param = ember.nn.Parameter(ember.tensor(p0.copy()))
    opt = getattr(ek.optimizers, cls)(**kw)
    for g in grads:
        opt.apply_gradients([(g, param)])
    assert opt.iterations == len(grads)
    np.testing.assert_allclose(param.detach().numpy(), _reference(cls, kw, grads, p0),
                               rtol=1e-10, atol=1e-12)


CLIPS = [{}, {"clipnorm": 0.5}, {"clipvalue": 0.3}, {"global_clipnorm": 0.7}]


@pytest.mark.parametrize("clip", CLIPS, ids=["none", "clipnorm", "clipvalue", "global"])
@pytest.mark.parametrize("cls,kw", CASES)
def test_same_weights_as_real_keras_after_several_steps(cls, kw, clip):
    keras = real_keras()
    import torch
    p0, grads = _gradients(dtype=np.float32)
    p1, grads1 = _gradients(shape=(5,), seed=1, dtype=np.float32)  # two variables: global norm
    ours = [ember.nn.Parameter(ember.tensor(p0.copy())), ember.nn.Parameter(ember.tensor(p1))]
    theirs = [keras.Variable(p0.copy()), keras.Variable(p1.copy())]
    opt = getattr(ek.optimizers, cls)(**kw, **clip)
    ref = getattr(keras.optimizers, cls)(**kw, **clip)
    for g, g1 in zip(grads, grads1):
        opt.apply_gradients(zip([g, g1], ours))
        _keras_apply(ref, zip([torch.tensor(g), torch.tensor(g1)], theirs))
    for mine, real in zip(ours, theirs):
        assert mine.dtype == ember.float32
        np.testing.assert_allclose(mine.detach().numpy(), to_numpy(real.value), rtol=1e-5,
                                   atol=1e-6)


def test_training_a_model_matches_real_keras():
    # fit-style steps on a tiny regression: the gradients come from each library's own model.
    keras = real_keras()
    import torch
    rng = np.random.RandomState(3)
    x = rng.randn(16, 3).astype(np.float32)
    y = rng.randn(16, 1).astype(np.float32)
    kernel = rng.randn(3, 1).astype(np.float32)
    for cls, kw in CASES[::2]:
        w = ember.nn.Parameter(ember.tensor(kernel.copy()))
        kw_ = dict(kw, learning_rate=0.05) if cls != "Adadelta" else kw
        opt = getattr(ek.optimizers, cls)(**kw_)
        v = keras.Variable(kernel.copy())
        ref = getattr(keras.optimizers, cls)(**kw_)
        for _ in range(10):
            loss = ((ember.from_numpy(x) @ w - ember.from_numpy(y)) ** 2).mean()
            w.grad = None
            loss.backward()
            opt.apply_gradients([(w.grad, w)])
            tv = v.value.detach().requires_grad_(True)
            tloss = ((torch.tensor(x) @ tv - torch.tensor(y)) ** 2).mean()
            tloss.backward()
            _keras_apply(ref, [(tv.grad, v)])
        np.testing.assert_allclose(w.detach().numpy(), to_numpy(v.value), rtol=1e-5, atol=1e-6,
                                   err_msg=cls)


# ---- names, defaults, configs ----------------------------------------------------------------
@pytest.mark.parametrize("cls", NEW)
def test_names_defaults_and_config_as_keras(cls):
    keras = real_keras()
    for name in (cls.lower(), cls):
        opt = ek.optimizers.get(name)
        assert type(opt) is getattr(ek.optimizers, cls)
    ours = getattr(ek.optimizers, cls)().get_config()
    theirs = _keras_config(getattr(keras.optimizers, cls)())
    assert set(ours) == set(theirs)
    assert ours["name"] == cls.lower()
    for key in theirs:
        if key != "name":
            assert ours[key] == pytest.approx(theirs[key]), key
    rebuilt = getattr(ek.optimizers, cls).from_config(ours)
    assert rebuilt.get_config() == ours


def test_existing_optimizers_have_keras_config_keys():
    keras = real_keras()
    for cls in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(ek.optimizers, cls)().get_config()
        assert set(ours) == set(_keras_config(getattr(keras.optimizers, cls)())), cls


@pytest.mark.parametrize("cls", NEW)
def test_compile_by_name_and_fit_reduces_the_loss(cls):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 4).astype(np.float32)
    y = (x @ rng.randn(4, 1)).astype(np.float32)
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1)])
    lr = 1.0 if cls == "Adadelta" else 0.05
    model.compile(optimizer=getattr(ek.optimizers, cls)(learning_rate=lr), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.9 * before  # Adadelta starts slowly
    model.compile(optimizer=cls.lower(), loss="mse")
    assert type(model.optimizer) is getattr(ek.optimizers, cls)


@pytest.mark.parametrize("cls", NEW)
def test_save_and_resume_keeps_the_optimizer_state(tmp_path, cls):
    rng = np.random.RandomState(0)
    x = rng.randn(32, 4).astype(np.float32)
    y = rng.randn(32, 2).astype(np.float32)
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(3, activation="tanh"),
                           ek.layers.Dense(2)])
    model.compile(optimizer=getattr(ek.optimizers, cls)(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == 8
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Without the saved state the continuation differs (so the check above can fail).
    fresh = ek.models.load_model(tmp_path / "m.ember", compile=False)
    fresh.compile(optimizer=getattr(ek.optimizers, cls)(learning_rate=0.01), loss="mse")
    fresh.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert not np.array_equal(fresh.get_weights()[0], model.get_weights()[0])


# ---- errors ----------------------------------------------------------------------------------
def test_bad_arguments_are_rejected_with_clear_messages():
    opt = ek.optimizers
    with pytest.raises(ValueError, match=r"Nadam.*beta_1.*1\.5"):
        opt.Nadam(beta_1=1.5)
    with pytest.raises(ValueError, match=r"Adamax.*epsilon"):
        opt.Adamax(epsilon=-1.0)
    with pytest.raises(ValueError, match=r"Adadelta.*rho"):
        opt.Adadelta(rho=2.0)
    with pytest.raises(ValueError, match=r"Ftrl.*learning_rate_power"):
        opt.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match=r"Ftrl.*l1_regularization_strength"):
        opt.Ftrl(l1_regularization_strength=-0.1)
    with pytest.raises(ValueError, match=r"Lion.*beta_1.*SignSGD"):
        opt.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match=r"Lion.*learning_rate"):
        opt.Lion(learning_rate=-1.0)
    with pytest.raises(TypeError, match=r"Nadam.*unrecognized.*momentum"):
        opt.Nadam(momentum=0.9)
    with pytest.raises(ValueError, match="only one of"):
        opt.Lion(clipnorm=1.0, clipvalue=1.0)
    for unsupported in ({"use_ema": True}, {"loss_scale_factor": 128.0},
                        {"gradient_accumulation_steps": 2}):
        with pytest.raises(NotImplementedError, match=next(iter(unsupported))):
            opt.Adamax(**unsupported)


def test_serialize_deserialize_and_get_from_a_config():
    keras = real_keras()
    for cls in NEW:
        ours = getattr(ek.optimizers, cls)(learning_rate=0.5)
        spec = ek.optimizers.serialize(ours)
        assert spec["class_name"] == cls and spec["config"] == ours.get_config()
        for rebuilt in (ek.optimizers.deserialize(spec), ek.optimizers.get(spec)):
            assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
        theirs = _keras_config(getattr(keras.optimizers, cls)(learning_rate=0.5))
        from_keras = ek.optimizers.get({"class_name": cls, "config": theirs})
        assert from_keras.learning_rate == pytest.approx(0.5)
    assert type(ek.optimizers.deserialize({"class_name": "lion", "config": {}})) \
        is ek.optimizers.Lion
    with pytest.raises(ValueError, match="unknown optimizer 'adafactor'"):
        ek.optimizers.get({"class_name": "Adafactor", "config": {}})
