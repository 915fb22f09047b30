"""keras.regularizers and keras.constraints: formulas against NumPy, float64 gradient checks of
the penalties, identifiers and configs, the penalties in layer.losses for every weighted layer,
and real Keras 3 (same weights, same data): the same losses, the same loss after
train_on_batch, the same weights after a step with constraints."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import constraints, layers, regularizers
from ember.testing import gradcheck
from keras_reference import real_keras, to_numpy
from keras_layer_checks import fresh_keras  # noqa: F401  (autouse)
from keras_layer_checks import rand as _rand


def _orthogonal_ref(x, factor, mode):
    x = x.astype(np.float64)
    if mode == "columns":
        x = x.T
    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-7)
    product = u @ u.T
    n = len(u)
    return factor * 0.5 * np.abs(product * (1 - np.eye(n))).sum() / (n * (n - 1) / 2)


REGULARIZER_CASES = [
    (regularizers.L1(0.3), lambda x: 0.3 * np.abs(x).sum()),
    (regularizers.L2(0.2), lambda x: 0.2 * (x ** 2).sum()),
    (regularizers.L1L2(l1=0.1, l2=0.05), lambda x: 0.1 * np.abs(x).sum() + 0.05 * (x ** 2).sum()),
    (regularizers.OrthogonalRegularizer(0.5), lambda x: _orthogonal_ref(x, 0.5, "rows")),
    (regularizers.OrthogonalRegularizer(0.5, mode="columns"),
     lambda x: _orthogonal_ref(x, 0.5, "columns")),
]


@pytest.mark.parametrize("regularizer,reference", REGULARIZER_CASES)
def test_regularizer_formulas_match_numpy(regularizer, reference):
    x = _rand(4, 3)
    np.testing.assert_allclose(float(regularizer(x)), reference(x), rtol=1e-5)


@pytest.mark.parametrize("regularizer,reference", REGULARIZER_CASES)
def test_regularizer_penalty_gradients(regularizer, reference):
    x = ember.from_numpy(_rand(4, 3, seed=1).astype(np.float64)).requires_grad_()
    assert gradcheck(lambda t: regularizer(t), (x,), atol=1e-6, rtol=1e-4)


def test_regularizers_match_real_keras():
    keras = real_keras()
    x = _rand(5, 4, seed=2)
    for ours, theirs in [(regularizers.L1(0.3), keras.regularizers.L1(0.3)),
                         (regularizers.L2(0.2), keras.regularizers.L2(0.2)),
                         (regularizers.L1L2(0.1, 0.05), keras.regularizers.L1L2(0.1, 0.05)),
                         (regularizers.OrthogonalRegularizer(0.5, "rows"),
                          keras.regularizers.OrthogonalRegularizer(0.5, "rows")),
                         (regularizers.OrthogonalRegularizer(0.5, "columns"),
                          keras.regularizers.OrthogonalRegularizer(0.5, "columns"))]:
        expected = to_numpy(theirs(keras.ops.convert_to_tensor(x)))
        np.testing.assert_allclose(float(ours(x)), expected, rtol=1e-5)
        assert ours.get_config() == theirs.get_config()
        assert regularizers.serialize(ours) == keras.regularizers.serialize(theirs)


def test_regularizer_identifiers_and_aliases():
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    assert regularizers.get("l1l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert isinstance(regularizers.get("orthogonal_regularizer"),
                      regularizers.OrthogonalRegularizer)
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.l2 is regularizers.L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.5)
    assert regularizers.get(reg) is reg
    again = regularizers.get(regularizers.serialize(reg))
    assert type(again) is regularizers.L2 and again.l2 == 0.5
    assert ek.Regularizer is regularizers.Regularizer
    with pytest.raises(ValueError, match="regularizer identifier: l1_l2"):
        regularizers.get("l1_l2")  # as in Keras 3
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L1(-1.0)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.zeros((2, 2, 2)))
    with pytest.raises(NotImplementedError, match="register_keras_serializable"):
        regularizers.serialize(lambda w: w.sum())


CONSTRAINT_CASES = [
    (constraints.MaxNorm(1.5, axis=0),
     lambda w: w * np.clip(n0(w), 0, 1.5) / (1e-7 + n0(w))),
    (constraints.NonNeg(), lambda w: np.maximum(w, 0)),
    (constraints.UnitNorm(axis=1), lambda w: w / (1e-7 + np.linalg.norm(w, axis=1, keepdims=True))),
    (constraints.MinMaxNorm(0.5, 1.0, rate=0.7, axis=0),
     lambda w: w * (0.7 * np.clip(n0(w), 0.5, 1.0) + 0.3 * n0(w)) / (1e-7 + n0(w))),
]


def n0(w):
    return np.linalg.norm(w, axis=0, keepdims=True)


@pytest.mark.parametrize("constraint,reference", CONSTRAINT_CASES)
def test_constraint_formulas_match_numpy(constraint, reference):
    w = _rand(4, 3, seed=3) * 2
    np.testing.assert_allclose(constraint(w).numpy(), reference(w), rtol=1e-5, atol=1e-7)


def test_constraints_match_real_keras_and_round_trip():
    keras = real_keras()
    w = _rand(3, 2, 4, seed=4)
    for ours, theirs in [(constraints.MaxNorm(1.0, axis=[0, 1]),
                          keras.constraints.MaxNorm(1.0, axis=[0, 1])),
                         (constraints.NonNeg(), keras.constraints.NonNeg()),
                         (constraints.UnitNorm(axis=2), keras.constraints.UnitNorm(axis=2)),
                         (constraints.MinMaxNorm(0.2, 0.9, 0.5, axis=1),
                          keras.constraints.MinMaxNorm(0.2, 0.9, 0.5, axis=1))]:
        expected = to_numpy(theirs(keras.ops.convert_to_tensor(w)))
        np.testing.assert_allclose(ours(w).numpy(), expected, rtol=1e-5, atol=1e-7)
        assert constraints.serialize(ours) == keras.constraints.serialize(theirs)
        again = constraints.deserialize(constraints.serialize(ours))
        assert type(again) is type(ours) and again.get_config() == ours.get_config()
    for name in ("max_norm", "non_neg", "unit_norm", "min_max_norm"):
        assert type(constraints.get(name)).__name__ == type(keras.constraints.get(name)).__name__
    with pytest.raises(ValueError, match="constraint identifier"):
        constraints.get("positive")


# ---- the penalties in layer.losses -------------------------------------------------------------
WEIGHTED_LAYERS = [
    (lambda **kw: layers.Dense(3, **kw), (4, 5), ("kernel", "bias")),
    (lambda **kw: layers.Conv1D(2, 3, **kw), (2, 6, 3), ("kernel", "bias")),
    (lambda **kw: layers.Conv2D(2, 3, **kw), (2, 5, 5, 2), ("kernel", "bias")),
    (lambda **kw: layers.Embedding(7, 3, **kw), (2, 4), ("embeddings",)),
    (lambda **kw: layers.SimpleRNN(3, **kw), (2, 4, 5), ("kernel", "recurrent", "bias")),
    (lambda **kw: layers.LSTM(3, **kw), (2, 4, 5), ("kernel", "recurrent", "bias")),
    (lambda **kw: layers.GRU(3, **kw), (2, 4, 5), ("kernel", "recurrent", "bias")),
    (lambda **kw: layers.BatchNormalization(**kw), (4, 3), ("gamma", "beta")),
    (lambda **kw: layers.LayerNormalization(**kw), (4, 3), ("gamma", "beta")),
]


def _input(shape, seed=5):
    if len(shape) == 2 and shape == (2, 4):
        return np.random.RandomState(seed).randint(0, 7, size=shape)
    return _rand(*shape, seed=seed)


@pytest.mark.parametrize("make,shape,weights", WEIGHTED_LAYERS)
def test_weight_penalties_of_every_weighted_layer(make, shape, weights):
    """Each <weight>_regularizer adds factor * sum(w ** 2) of that weight (Keras' layout),
    computed fresh; the activity regularizer adds its penalty divided by the batch size."""
    factors = {w: 0.1 * (i + 1) for i, w in enumerate(weights)}
    kwargs = {f"{w}_regularizer": regularizers.L2(f) for w, f in factors.items()}
    layer = make(activity_regularizer=regularizers.L1(0.01), **kwargs)
    x = _input(shape)
    out = layer(x)
    keras_weights = dict(zip([getattr(p, "name", None) for p in layer.weights],
                             layer.get_weights()))
    expected = [0.01 * np.abs(out.detach().numpy()).sum() / shape[0]]
    names = {"recurrent": "recurrent_kernel"}
    expected += [f * (keras_weights[names.get(w, w)].astype(np.float64) ** 2).sum()
                 for w, f in factors.items()]
    got = [float(loss) for loss in layer.losses]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    config = layer.get_config()
    for w, f in factors.items():
        assert config[f"{w}_regularizer"]["config"] == {"l2": f}
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_bidirectional_passes_regularizers_to_both_layers():
    layer = layers.Bidirectional(layers.LSTM(3, kernel_regularizer=regularizers.L2(0.5)))
    layer(_rand(2, 4, 5))
    kernels = [w for w in layer.weights if w.name == "kernel"]
    assert len(kernels) == 2 and len(layer.losses) == 2
    expected = [0.5 * (k.detach().numpy().astype(np.float64) ** 2).sum() for k in kernels]
    np.testing.assert_allclose([float(v) for v in layer.losses], expected, rtol=1e-5)


def test_activity_regularization_layer():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    x = _rand(4, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    expected = (0.1 * np.abs(x).sum() + 0.2 * (x.astype(np.float64) ** 2).sum()) / 4
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    assert layer.get_config() == {"name": layer.name, "trainable": True, "l1": 0.1, "l2": 0.2}
    assert layers.ActivityRegularization.from_config(layer.get_config()).l2 == 0.2


def test_losses_are_from_the_latest_call_only():
    model = ek.Sequential([layers.Input((3,)), layers.Dense(2, activity_regularizer="l2")])
    model(_rand(4, 3))
    model(_rand(4, 3, seed=1))
    assert len(model.losses) == 1  # the first call's loss was cleared


def test_penalty_gradients_flow_to_the_weights():
    """d/dW of 0.5 * sum(W ** 2) is 0.5 * 2 * W: the penalty's gradient reaches the kernel."""
    dense = layers.Dense(2, kernel_regularizer=regularizers.L2(0.5), use_bias=False)
    dense(_rand(3, 4))
    penalty = sum(dense.losses)
    penalty.backward()
    np.testing.assert_allclose(dense.weight.grad.numpy(), dense.weight.detach().numpy(),
                               rtol=1e-6)


# ---- training against real Keras ---------------------------------------------------------------
def _keras_weights(model):
    # (not model.get_weights(): with NumPy 2 it warns through torch's __array__)
    return [to_numpy(w.value) for w in model.weights]


def _pair(keras, reg_kwargs, constraint_kwargs=None, optimizer="sgd"):
    constraint_kwargs = constraint_kwargs or {}
    ours = ek.Sequential([layers.Input((4,)),
                          layers.Dense(5, activation="tanh", **reg_kwargs(ek),
                                       **constraint_kwargs.get("ours", {})),
                          layers.Dense(1, kernel_regularizer=ek.regularizers.L2(0.03))])
    theirs = keras.Sequential([keras.Input((4,)),
                               keras.layers.Dense(5, activation="tanh", **reg_kwargs(keras),
                                                  **constraint_kwargs.get("theirs", {})),
                               keras.layers.Dense(1,
                                                  kernel_regularizer=keras.regularizers.L2(0.03))])
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=ek.optimizers.SGD(0.1) if optimizer == "sgd" else optimizer,
                 loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1) if optimizer == "sgd" else optimizer,
                   loss="mse")
    return ours, theirs


def _regs(k):
    return {"kernel_regularizer": k.regularizers.L1L2(0.01, 0.02),
            "bias_regularizer": k.regularizers.L1(0.05),
            "activity_regularizer": k.regularizers.L2(0.01)}


def test_losses_and_train_on_batch_match_real_keras():
    keras = real_keras()
    ours, theirs = _pair(keras, _regs)
    x, y = _rand(8, 4, seed=6), _rand(8, 1, seed=7)
    ours(x)
    theirs(x)
    np.testing.assert_allclose([float(v) for v in ours.losses],
                               [float(to_numpy(v)) for v in theirs.losses], rtol=1e-5)
    for _ in range(3):  # the reported loss includes the penalties
        np.testing.assert_allclose(ours.train_on_batch(x, y), theirs.train_on_batch(x, y),
                                   rtol=1e-5)
    for a, b in zip(ours.get_weights(), _keras_weights(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_fit_logs_include_the_penalties_as_in_keras():
    keras = real_keras()
    ours, theirs = _pair(keras, _regs)
    x, y = _rand(16, 4, seed=8), _rand(16, 1, seed=9)
    h1 = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    plain = ek.Sequential([layers.Input((4,)), layers.Dense(5, activation="tanh"),
                           layers.Dense(1)])
    plain.set_weights(ours.get_weights())
    plain.compile(optimizer="sgd", loss="mse")
    assert ours.evaluate(x, y, verbose=0) > plain.evaluate(x, y, verbose=0)  # penalties added


def test_constraints_after_each_step_match_real_keras():
    keras = real_keras()

    def cons(k):
        return {"kernel_constraint": k.constraints.MaxNorm(0.3, axis=0),
                "bias_constraint": k.constraints.NonNeg()}

    ours, theirs = _pair(keras, lambda k: {}, {"ours": cons(ek), "theirs": cons(keras)})
    x, y = _rand(8, 4, seed=10), _rand(8, 1, seed=11) * 5
    for _ in range(3):
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
    for a, b in zip(ours.get_weights(), _keras_weights(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    kernel, bias = ours.layers[0].get_weights()
    assert np.linalg.norm(kernel, axis=0).max() <= 0.3 + 1e-5 and bias.min() >= 0.0


def test_constraints_on_conv_and_rnn_use_keras_layout():
    keras = real_keras()
    for ours_layer, theirs_layer, shape in [
            (layers.Conv2D(3, 2, kernel_constraint=ek.constraints.UnitNorm(axis=[0, 1, 2])),
             keras.layers.Conv2D(3, 2, kernel_constraint=keras.constraints.UnitNorm(
                 axis=[0, 1, 2])), (2, 4, 4, 2)),
            (layers.GRU(3, recurrent_constraint=ek.constraints.MaxNorm(0.5, axis=1)),
             keras.layers.GRU(3, recurrent_constraint=keras.constraints.MaxNorm(0.5, axis=1)),
             (2, 3, 4))]:
        ours = ek.Sequential([layers.Input(shape[1:]), ours_layer, layers.Flatten(),
                              layers.Dense(1)])
        theirs = keras.Sequential([keras.Input(shape[1:]), theirs_layer,
                                   keras.layers.Flatten(), keras.layers.Dense(1)])
        theirs.set_weights(ours.get_weights())
        ours.compile(optimizer=ek.optimizers.SGD(0.5), loss="mse")
        theirs.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        x, y = _rand(*shape, seed=12), _rand(shape[0], 1, seed=13)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
        for a, b in zip(ours.get_weights(), _keras_weights(theirs)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_regularized_model_saves_and_loads(tmp_path):
    model = ek.Sequential([layers.Input((4,)),
                           layers.Dense(3, kernel_regularizer="l2",
                                        kernel_constraint=ek.constraints.MaxNorm(2.0),
                                        activity_regularizer=ek.regularizers.L1(0.1)),
                           layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = _rand(6, 4)
    model.train_on_batch(x, _rand(6, 1))
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    assert loaded.get_config() == model.get_config()
    model(x)
    loaded(x)
    np.testing.assert_allclose([float(v) for v in loaded.losses],
                               [float(v) for v in model.losses], rtol=1e-6)
    assert isinstance(loaded.layers[0].kernel_constraint, ek.constraints.MaxNorm)


@pytest.mark.parametrize("make,shape", [
    (lambda: layers.Conv2D(2, 3, kernel_regularizer=regularizers.L2(0.5)), (2, 5, 5, 2)),
    (lambda: layers.GRU(3, kernel_regularizer=regularizers.L2(0.5)), (2, 4, 5)),
    (lambda: layers.LSTM(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.5)),
     (2, 4, 5))])
def test_penalty_gradients_through_the_keras_layout_view(make, shape):
    """The penalty sees the kernel through a differentiable relayout; its gradient in the
    stored layout equals the finite difference of the penalty of the Keras-layout array."""
    layer = make()
    layer(_rand(*shape))
    weight = next(p for p in layer.parameters() if getattr(p, "name", "") == "kernel")
    weight.grad = None
    sum(layer.losses).backward()
    reg = layer.kernel_regularizer
    keras_of = dict(zip([getattr(p, "name", None) for p in layer.weights], range(9)))
    base = layer.get_weights()
    index = keras_of["kernel"]

    def penalty(stored):
        with ember.no_grad():
            weight.copy_(ember.from_numpy(stored.astype(np.float32)))
            return float(reg(layer.get_weights()[index].astype(np.float64)))

    stored = weight.detach().numpy().astype(np.float64)
    numeric = np.zeros_like(stored)
    eps = 1e-3
    for i in np.ndindex(stored.shape):
        up, down = stored.copy(), stored.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (penalty(up) - penalty(down)) / (2 * eps)
    layer.set_weights(base)
    np.testing.assert_allclose(weight.grad.numpy(), numeric, rtol=2e-2, atol=2e-4)


@ek.saving.register_keras_serializable(package="ember_tests")
class ScaledL1(ek.regularizers.Regularizer):
    """A user regularizer (the Keras docs' idiom), registered so files can name it."""

    def __init__(self, rate=0.1):
        self.rate = rate

    def __call__(self, x):
        return self.rate * ember.abs(x).sum()

    def get_config(self):
        return {"rate": self.rate}


class Clip(ek.constraints.Constraint):
    def __init__(self, limit=0.05):
        self.limit = limit

    def __call__(self, w):
        return ember.clamp(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def test_custom_regularizer_and_constraint_round_trip(tmp_path):
    model = ek.Sequential([layers.Input((4,)),
                           layers.Dense(3, kernel_regularizer=ScaledL1(0.2),
                                        kernel_constraint=Clip(0.05))])
    model.compile(optimizer=ek.optimizers.SGD(0.5), loss="mse")
    x = _rand(6, 4)
    model.train_on_batch(x, _rand(6, 3))
    assert np.abs(model.get_weights()[0]).max() <= 0.05 + 1e-7  # the constraint ran
    model(x)
    expected = 0.2 * np.abs(model.get_weights()[0].astype(np.float64)).sum()
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-6)
    config = model.layers[0].get_config()
    assert config["kernel_regularizer"]["registered_name"] == "ember_tests>ScaledL1"
    path = tmp_path / "custom.ember"
    model.save(path)
    with pytest.raises(ValueError, match="Unknown constraint class: 'Clip'"):
        ek.models.load_model(path)  # registered regularizer found; Clip was not registered
    loaded = ek.models.load_model(path, custom_objects={"Clip": Clip})
    layer = loaded.layers[0]
    assert type(layer.kernel_regularizer) is ScaledL1 and layer.kernel_regularizer.rate == 0.2
    assert type(layer.kernel_constraint) is Clip and layer.kernel_constraint.limit == 0.05
    loaded(x)
    np.testing.assert_allclose(float(loaded.losses[0]), expected, rtol=1e-6)
