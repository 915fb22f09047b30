"""The Keras face end to end: layers, losses, optimizers, metrics, callbacks and Sequential."""
import math

import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers

EPS = 1e-7


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()
    ember.manual_seed(0)


def _blobs(n=200, seed=0):
    rng = np.random.RandomState(seed)
    x = np.concatenate([rng.randn(n // 2, 2) + [2.0, 2.0], rng.randn(n // 2, 2) - [2.0, 2.0]])
    y = np.concatenate([np.ones(n // 2), np.zeros(n // 2)])
    return x.astype(np.float32), y.astype(np.int64)


def _three_class(n=300, seed=1):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.randint(0, 3, n)
    x = centers[y] + rng.randn(n, 2)
    return x.astype(np.float32), y.astype(np.int64)


# ---- Dense ----------------------------------------------------------------------------------
def test_dense_weights_use_keras_layout_and_linear_math():
    dense = layers.Dense(3, input_shape=(4,))
    x = np.random.RandomState(0).randn(5, 4).astype(np.float32)
    out = dense(x).detach().numpy()
    kernel, bias = dense.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    assert tuple(dense.weight.shape) == (3, 4)  # stored in PyTorch Linear layout
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-6)

    new_kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    new_bias = np.array([1.0, -1.0, 0.5], np.float32)
    dense.set_weights([new_kernel, new_bias])
    got = dense.get_weights()
    np.testing.assert_array_equal(got[0], new_kernel)
    np.testing.assert_array_equal(got[1], new_bias)
    np.testing.assert_array_equal(dense.weight.detach().numpy(), new_kernel.T)

    linear = ember.nn.Linear(4, 3)
    linear.load_state_dict({"weight": new_kernel.T, "bias": new_bias})
    np.testing.assert_allclose(dense(x).detach().numpy(),
                               linear(ember.from_numpy(x)).detach().numpy(), rtol=1e-6)
    assert dense.count_params() == 15


def test_dense_set_weights_rejects_wrong_shapes():
    dense = layers.Dense(3, name="head")
    dense.build((None, 4))
    with pytest.raises(ValueError, match=r'"head".*\(4, 3\).*\(3, 4\)'):
        dense.set_weights([np.zeros((3, 4)), np.zeros(3)])
    with pytest.raises(ValueError, match="expected 2 weights, but received 1"):
        dense.set_weights([np.zeros((4, 3))])


def test_dense_activation_and_no_bias():
    dense = layers.Dense(2, activation="relu", use_bias=False)
    x = np.array([[1.0, -2.0]], np.float32)
    dense.build((None, 2))
    dense.set_weights([np.array([[1.0, -1.0], [1.0, 1.0]], np.float32)])
    np.testing.assert_allclose(dense(x).detach().numpy(), [[0.0, 0.0]])
    assert len(dense.get_weights()) == 1


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match=r"Dense: units must be a positive integer\. "
                                         r"Received: units="):
        layers.Dense(units)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="Could not interpret activation.*'reluu'.*relu.*"
                                         "sigmoid.*softmax"):
        layers.Dense(3, activation="reluu")


def test_activations_match_numpy():
    x = np.linspace(-3, 3, 13).astype(np.float32).reshape(1, -1)
    t = ember.from_numpy(x)
    sig = 1 / (1 + np.exp(-x))
    refs = {
        "relu": np.maximum(x, 0), "sigmoid": sig, "tanh": np.tanh(x),
        "softmax": np.exp(x) / np.exp(x).sum(-1, keepdims=True),
        "log_softmax": x - np.log(np.exp(x).sum(-1, keepdims=True)),
        "elu": np.where(x > 0, x, np.expm1(x)), "softplus": np.log1p(np.exp(x)),
        "leaky_relu": np.where(x > 0, x, 0.2 * x), "linear": x, "swish": x * sig,
        "silu": x * sig,
        "gelu": 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    }
    for name, ref in refs.items():
        got = layers.Activation(name)(t).detach().numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, err_msg=name)


def test_layer_names_count_up_like_keras():
    assert [layers.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert layers.Dropout(0.5).name == "dropout"
    assert layers.InputLayer(shape=(3,)).name == "input_layer"


def test_dropout_only_in_training():
    drop = layers.Dropout(0.5)
    x = ember.ones(1000, 10)
    drop.train()
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(drop(x, training=False).numpy(), x.numpy())
    seeded = [layers.Dropout(0.3, seed=7)(x, training=True).numpy() for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.Dropout(1.5)


def test_calling_a_model_outside_fit_is_inference_as_in_keras():
    # Keras: training=None means inference; only fit/train_on_batch (or training=True) train.
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Dropout(0.5), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((200, 10), np.float32)

    def run(m, **kwargs):
        with ember.no_grad():
            return m(ember.from_numpy(x), **kwargs).numpy()

    def inference(m):
        return np.array_equal(run(m), run(m))

    assert not model.training and inference(model)
    seen = []
    model.layers[0].register_forward_hook(lambda layer, inputs, out: seen.append(layer.training))
    model.fit(x, np.zeros((200, 1), np.float32), epochs=1, batch_size=100, verbose=0)
    model.train_on_batch(x, np.zeros((200, 1), np.float32))
    assert seen == [True, True, True] and not model.training and inference(model)
    assert not np.array_equal(run(model, training=True), run(model, training=False))


def test_flatten():
    x = ember.ones(2, 3, 4)
    assert tuple(layers.Flatten()(x).shape) == (2, 12)


# ---- initializers ---------------------------------------------------------------------------
def test_initializers_follow_keras_formulas():
    init = keras.initializers
    shape = (300, 200)
    limit = math.sqrt(6 / (300 + 200))
    w = init.get("glorot_uniform")(shape).numpy()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    np.testing.assert_allclose(w.std(), limit / math.sqrt(3), rtol=0.03)
    w = init.get("he_uniform")(shape).numpy()
    assert np.abs(w).max() <= math.sqrt(6 / 300)
    for name, std in [("glorot_normal", math.sqrt(2 / 500)), ("he_normal", math.sqrt(2 / 300)),
                      ("lecun_normal", math.sqrt(1 / 300))]:
        w = init.get(name)(shape).numpy()
        # Keras' truncated normal: cut at 2 sigma of the pre-scaled normal, variance preserved.
        assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-7, name
        np.testing.assert_allclose(w.std(), std, rtol=0.03, err_msg=name)
    w = init.get("lecun_uniform")(shape).numpy()
    assert np.abs(w).max() <= math.sqrt(3 / 300)
    np.testing.assert_array_equal(init.get("zeros")((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.get("ones")((2,)).numpy(), np.ones(2))
    np.testing.assert_array_equal(init.Constant(0.5)((2,)).numpy(), [0.5, 0.5])
    w = init.RandomNormal(stddev=0.05)((400, 100)).numpy()
    np.testing.assert_allclose(w.std(), 0.05, rtol=0.03)
    w = init.RandomUniform(-0.1, 0.1)((400, 100)).numpy()
    assert w.min() >= -0.1 and w.max() <= 0.1
    with pytest.raises(ValueError, match="glorot_uniform"):
        init.get("glorot")


def test_initializers_are_seeded_by_manual_seed_and_seed_argument():
    ember.manual_seed(3)
    a = keras.initializers.GlorotUniform()((4, 5)).numpy()
    ember.manual_seed(3)
    b = keras.initializers.GlorotUniform()((4, 5)).numpy()
    np.testing.assert_array_equal(a, b)
    c = keras.initializers.HeNormal(seed=1)((4, 5)).numpy()
    d = keras.initializers.HeNormal(seed=1)((4, 5)).numpy()
    np.testing.assert_array_equal(c, d)


# ---- losses ---------------------------------------------------------------------------------
def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _keras_cce(t, p):
    p = p / p.sum(-1, keepdims=True)
    return np.mean(-(t * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1))


def _keras_bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1))


def _loss(name_or_obj, y_true, y_pred):
    loss = keras.losses.get(name_or_obj)
    return float(loss(y_true, ember.from_numpy(np.asarray(y_pred, np.float64))).item())


def test_regression_losses_match_keras_formulas():
    rng = np.random.RandomState(0)
    t, p = rng.randn(6, 3), rng.randn(6, 3) * 2
    err = p - t
    np.testing.assert_allclose(_loss("mse", t, p), np.mean(np.mean(err ** 2, -1)), rtol=1e-12)
    np.testing.assert_allclose(_loss("mean_squared_error", t, p), np.mean(err ** 2), rtol=1e-12)
    np.testing.assert_allclose(_loss("mae", t, p), np.mean(np.abs(err)), rtol=1e-12)
    np.testing.assert_allclose(_loss("mean_absolute_error", t, p), np.mean(np.abs(err)),
                               rtol=1e-12)
    a = np.abs(err)
    huber = np.where(a <= 1.0, 0.5 * err ** 2, a - 0.5)
    np.testing.assert_allclose(_loss("huber", t, p), np.mean(huber), rtol=1e-12)
    huber2 = np.where(a <= 2.0, 0.5 * err ** 2, 2.0 * a - 2.0)
    np.testing.assert_allclose(_loss(keras.losses.Huber(delta=2.0), t, p), np.mean(huber2),
                               rtol=1e-12)
    # A rank-1 target against (N, 1) predictions is expanded, not broadcast to (N, N).
    np.testing.assert_allclose(_loss("mse", t[:, 0], p[:, :1]),
                               np.mean((p[:, 0] - t[:, 0]) ** 2), rtol=1e-12)


def test_categorical_crossentropy_matches_keras_formula():
    rng = np.random.RandomState(1)
    logits = rng.randn(5, 4)
    labels = rng.randint(0, 4, 5)
    onehot = np.eye(4)[labels]
    probs = _softmax(logits)
    probs[0] = [1.0, 0.0, 0.0, 0.0]  # exercises the clipping
    onehot[0] = [0.0, 1.0, 0.0, 0.0]
    unnormalised = probs * 3.0  # Keras divides by the sum first
    np.testing.assert_allclose(_loss("categorical_crossentropy", onehot, unnormalised),
                               _keras_cce(onehot, probs), rtol=1e-12)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    cce_logits = keras.losses.CategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(_loss(cce_logits, onehot, logits),
                               np.mean(-(onehot * logp).sum(-1)), rtol=1e-10)
    smooth = onehot * 0.9 + 0.1 / 4
    np.testing.assert_allclose(
        _loss(keras.losses.CategoricalCrossentropy(label_smoothing=0.1), onehot, probs),
        _keras_cce(smooth, probs), rtol=1e-12)
    np.testing.assert_allclose(
        _loss(keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
              onehot, logits), np.mean(-(smooth * logp).sum(-1)), rtol=1e-10)


def test_sparse_categorical_crossentropy_matches_keras_formula():
    rng = np.random.RandomState(2)
    logits = rng.randn(6, 3)
    labels = rng.randint(0, 3, 6)
    probs = _softmax(logits)
    probs[1] = [0.0, 0.0, 1.0]
    labels[1] = 0
    ref = _keras_cce(np.eye(3)[labels], probs)
    np.testing.assert_allclose(_loss("sparse_categorical_crossentropy", labels, probs), ref,
                               rtol=1e-12)
    np.testing.assert_allclose(_loss("sparse_categorical_crossentropy", labels[:, None], probs),
                               ref, rtol=1e-12)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ref_logits = np.mean(-logp[np.arange(6), labels])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(_loss(loss, labels, logits), ref_logits, rtol=1e-10)


def test_binary_crossentropy_matches_keras_formula():
    rng = np.random.RandomState(3)
    logits = rng.randn(8, 2) * 3
    t = rng.randint(0, 2, (8, 2)).astype(np.float64)
    p = 1 / (1 + np.exp(-logits))
    p[0, 0], p[1, 1] = 0.0, 1.0  # clipped to [eps, 1 - eps]
    np.testing.assert_allclose(_loss("binary_crossentropy", t, p), _keras_bce(t, p), rtol=1e-12)
    ref_logits = np.mean(np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits))))
    np.testing.assert_allclose(
        _loss(keras.losses.BinaryCrossentropy(from_logits=True), t, logits), ref_logits,
        rtol=1e-10)
    smooth = t * 0.8 + 0.1
    np.testing.assert_allclose(
        _loss(keras.losses.BinaryCrossentropy(label_smoothing=0.2), t, p), _keras_bce(smooth, p),
        rtol=1e-12)
    # (N,) targets with (N, 1) predictions, as in a sigmoid-output model.
    np.testing.assert_allclose(_loss("binary_crossentropy", t[:, 0], p[:, :1]),
                               _keras_bce(t[:, :1], p[:, :1]), rtol=1e-12)


def test_loss_gradient_matches_torch_of_keras_formula():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(4)
    probs = _softmax(rng.randn(4, 3))
    onehot = np.eye(3)[[0, 2, 1, 1]]
    pred = ember.tensor(probs, requires_grad=True)
    keras.losses.CategoricalCrossentropy()(onehot, pred).backward()
    tp = torch.tensor(probs, requires_grad=True)
    q = torch.clip(tp / tp.sum(-1, keepdim=True), EPS, 1 - EPS)
    (-(torch.tensor(onehot) * torch.log(q)).sum(-1)).mean().backward()
    np.testing.assert_allclose(pred.grad.numpy(), tp.grad.numpy(), rtol=1e-10)


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="Could not interpret loss.*'msee'.*mse"):
        keras.losses.get("msee")


def test_loss_functions_return_per_sample_values():
    t, p = np.zeros((4, 3)), ember.ones(4, 3, dtype=ember.float64)
    assert tuple(keras.losses.mean_squared_error(t, p).shape) == (4,)
    assert tuple(keras.losses.binary_crossentropy(t, p * 0.5).shape) == (4,)


# ---- optimizers -----------------------------------------------------------------------------
def test_optimizer_strings_use_keras_defaults():
    opt = keras.optimizers
    sgd = opt.get("sgd")
    assert isinstance(sgd, opt.SGD) and sgd.learning_rate == 0.01 and sgd.momentum == 0.0
    assert sgd.nesterov is False
    adam = opt.get("adam")
    assert isinstance(adam, opt.Adam) and adam.learning_rate == 0.001
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    adamw = opt.get("adamw")
    assert isinstance(adamw, opt.AdamW) and adamw.weight_decay == 0.004
    rms = opt.get("rmsprop")
    assert isinstance(rms, opt.RMSprop) and rms.learning_rate == 0.001
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    ada = opt.get("adagrad")
    assert isinstance(ada, opt.Adagrad) and ada.learning_rate == 0.001
    assert (ada.initial_accumulator_value, ada.epsilon) == (0.1, 1e-7)
    with pytest.raises(ValueError, match="Could not interpret optimizer.*'adan'.*adam"):
        opt.get("adan")
    with pytest.raises(ValueError, match="SGD.*momentum=1.5"):
        opt.SGD(momentum=1.5)


def _keras_reference(name, kw, grads, p0):
    """NumPy transcription of Keras 3's update_step (plus its decoupled weight decay)."""
    p = p0.copy()
    lr = kw.get("learning_rate")
    wd = kw.get("weight_decay")
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    avg = np.zeros_like(p)
    vhat = np.zeros_like(p)
    acc = np.full_like(p, kw.get("initial_accumulator_value", 0.0))
    for t, g in enumerate(grads, start=1):
        if wd:
            p = p - p * wd * lr
        if name == "sgd":
            mom = kw.get("momentum", 0.0)
            if mom:
                m = -g * lr + m * mom
                p = p + (-g * lr + m * mom if kw.get("nesterov") else m)
            else:
                p = p - g * lr
        elif name == "adam":
            b1, b2, eps = kw["beta_1"], kw["beta_2"], kw["epsilon"]
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
            if kw.get("amsgrad"):
                vhat = np.maximum(vhat, v)
                p = p - alpha * m / (np.sqrt(vhat) + eps)
            else:
                p = p - alpha * m / (np.sqrt(v) + eps)
        elif name == "rmsprop":
            rho, eps, mom = kw["rho"], kw["epsilon"], kw.get("momentum", 0.0)
            v = rho * v + (1 - rho) * g * g
            if kw.get("centered"):
                avg = rho * avg + (1 - rho) * g
                denom = v - avg * avg + eps
            else:
                denom = v + eps
            inc = lr * g / np.sqrt(denom)
            if mom:
                m = mom * m + inc
                p = p - m
            else:
                p = p - inc
        elif name == "adagrad":
            acc = acc + g * g
            p = p - lr * g / np.sqrt(acc + kw["epsilon"])
    return p


@pytest.mark.parametrize("name,cls,kw", [
    ("sgd", "SGD", {"learning_rate": 0.1}),
    ("sgd", "SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", "SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
                    "weight_decay": 0.01}),
    ("adam", "Adam", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-3}),
    ("adam", "Adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-2,
                      "amsgrad": True}),
    ("adam", "AdamW", {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                       "weight_decay": 0.1}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-2}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01, "rho": 0.8, "epsilon": 1e-2,
                            "momentum": 0.5, "centered": True}),
    ("adagrad", "Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.1,
                            "epsilon": 1e-2}),
])
def test_optimizers_follow_keras_update_rules(name, cls, kw):
    rng = np.random.RandomState(5)
    p0 = rng.randn(3, 2)
    grads = [rng.randn(3, 2) * (0.1 if i % 2 else 1.0) for i in range(5)]
    param = ember.nn.Parameter(ember.tensor(p0.copy()))
    opt = getattr(keras.optimizers, cls)(**kw)
    for g in grads:
        opt.apply_gradients([(g, param)])
    assert opt.iterations == 5
    np.testing.assert_allclose(param.detach().numpy(), _keras_reference(name, kw, grads, p0),
                               rtol=1e-10, atol=1e-12)


# ---- metrics --------------------------------------------------------------------------------
def test_accuracy_resolves_from_shapes_like_keras():
    resolve = keras.metrics.resolve_accuracy
    assert isinstance(resolve((8,), (8, 3)), keras.metrics.SparseCategoricalAccuracy)
    assert isinstance(resolve((8, 1), (8, 3)), keras.metrics.SparseCategoricalAccuracy)
    assert isinstance(resolve((8, 3), (8, 3)), keras.metrics.CategoricalAccuracy)
    assert isinstance(resolve((8,), (8, 1)), keras.metrics.BinaryAccuracy)
    assert isinstance(resolve((8, 1), (8, 1)), keras.metrics.BinaryAccuracy)
    acc = keras.metrics.get("acc")
    acc.update_state(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    assert acc.name == "acc" and acc.result() == pytest.approx(2 / 3)


def test_metrics_are_means_weighted_by_batch_size():
    m = keras.metrics.get("binary_accuracy")
    m.update_state(np.array([1, 0]), np.array([[0.7], [0.2]]))  # 2 of 2 right
    m.update_state(np.array([1, 1, 0, 0]), np.array([[0.5], [0.9], [0.6], [0.1]]))  # 2 of 4
    assert m.result() == pytest.approx(4 / 6)  # threshold 0.5 is strict: 0.5 -> 0
    m.reset_state()
    assert m.result() == 0.0
    mae = keras.metrics.get("mae")
    mae.update_state(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    mae.update_state(np.array([[0.0]]), np.array([[3.0]]))
    assert mae.result() == pytest.approx((0.5 + 0 + 3.0) / 3)
    cat = keras.metrics.get("categorical_accuracy")
    cat.update_state(np.eye(3), np.array([[0.8, 0.1, 0.1], [0.5, 0.4, 0.1], [0, 0, 1]]))
    assert cat.result() == pytest.approx(2 / 3)
    sparse = keras.metrics.get("sparse_categorical_accuracy")
    sparse.update_state(np.array([[2], [0]]), np.array([[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]))
    assert sparse.result() == pytest.approx(0.5)
    mse = keras.metrics.get("mse")
    mse.update_state(np.array([1.0, 2.0]), np.array([[2.0], [2.0]]))
    assert mse.result() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Could not interpret metric.*'acuracy'"):
        keras.metrics.get("acuracy")


# ---- Sequential: training ---------------------------------------------------------------------
def test_fit_binary_blobs_decreases_loss():
    x, y = _blobs()
    model = keras.Sequential([layers.Dense(8, activation="tanh", input_shape=(2,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert list(hist.history) == ["accuracy", "loss"]  # Keras 3 sorts the logs by key
    assert hist.epoch == list(range(15)) and len(hist.history["loss"]) == 15
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert after[0] < before[0] and after[1] > 0.95


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy",
                                  "categorical_crossentropy"])
def test_fit_three_classes_softmax(loss):
    x, y = _three_class()
    targets = keras.utils.to_categorical(y, 3) if loss == "categorical_crossentropy" else y
    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                              layers.Dropout(0.1),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss=loss,
                  metrics=["accuracy"])
    hist = model.fit(x, targets, epochs=8, batch_size=32, verbose=0,
                     validation_data=(x[:50], targets[:50]))
    assert list(hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # (sorted)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    loss_value, acc = model.evaluate(x, targets, verbose=0)
    assert acc > 0.9
    probs = model.predict(x, verbose=0)
    assert probs.shape == (300, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(probs, model.predict(x, verbose=0))  # eval mode: no dropout


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = _three_class(100)
    model = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    val_loss, val_acc = model.evaluate(x[75:], y[75:], verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert hist.history["val_accuracy"][0] == pytest.approx(val_acc)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)


def test_evaluate_and_predict_shapes():
    x = np.random.RandomState(0).randn(10, 3).astype(np.float64)
    y = x.sum(1, keepdims=True)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    result = model.evaluate(x, y, batch_size=4, verbose=0)
    assert isinstance(result, float)
    kernel, bias = model.get_weights()
    assert result == pytest.approx(np.mean((x @ kernel + bias - y) ** 2), rel=1e-5)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert result[1] == pytest.approx(np.mean(np.abs(x @ kernel + bias - y)), rel=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "mae"}
    assert model.predict(x, batch_size=3, verbose=0).shape == (10, 1)
    assert model.predict_on_batch(x).shape == (10, 1)
    assert model.metrics_names == ["loss", "mae"]


def test_train_and_test_on_batch():
    x, y = _blobs(64)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])
    first = model.test_on_batch(x, y)
    for _ in range(10):
        model.train_on_batch(x, y)
    last = model.test_on_batch(x, y)
    assert len(first) == 2 and last[0] < first[0]


def test_model_weights_round_trip_in_keras_order():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 2), (2,)]
    new = [np.full_like(w, i) for i, w in enumerate(weights)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_layers_build_lazily_without_input_shape():
    model = keras.Sequential()
    model.add(layers.Dense(5, activation="relu"))
    model.add(layers.Dense(1))
    assert not model.built
    out = model(np.ones((2, 7), np.float32))
    assert tuple(out.shape) == (2, 1) and model.built
    assert model.layers[0].get_weights()[0].shape == (7, 5)
    model2 = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    assert model2.built and model2.count_params() == 10
    assert len(model2.layers) == 1  # the InputLayer is not listed, as in Keras


def test_subclassed_model_trains_and_functional_subclassing_is_refused():
    class TwoLayer(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(1, activation="sigmoid")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    x, y = _blobs(100)
    model = TwoLayer()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3 and len(model.get_weights()) == 4
    # keras.Model(inputs, outputs) is functional (tests/test_keras_functional*.py); a subclass
    # passing inputs and outputs to Model.__init__ is not supported.
    class FunctionalSubclass(keras.Model):
        def __init__(self):
            inputs = keras.Input((2,))
            super().__init__(inputs, layers.Dense(2)(inputs))

    with pytest.raises(NotImplementedError, match="subclass passing inputs and outputs"):
        FunctionalSubclass()


# ---- Sequential: errors and printing ----------------------------------------------------------
def test_fit_before_compile_is_an_error():
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before calling `fit\(\)`"):
        model.fit(np.zeros((4, 2)), np.zeros(4))


def test_data_errors_name_the_shapes():
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"cardinality.*'x' sizes: 10.*'y' sizes: 9"):
        model.fit(np.zeros((10, 3)), np.zeros(9), verbose=0)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(10, 5\)"):
        model.fit(np.zeros((10, 5)), np.zeros(10), verbose=0)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(4, 5\)"):
        model.predict(np.zeros((4, 5)), verbose=0)
    lazy = keras.Sequential([layers.Dense(1)])
    lazy.compile(optimizer="sgd", loss="mse")
    lazy.fit(np.zeros((4, 3)), np.zeros(4), verbose=0)
    with pytest.raises(ValueError, match=r'"dense_1".*value 3.*shape \(4, 5\)'):
        lazy.predict(np.zeros((4, 5)), verbose=0)
    with pytest.raises(ValueError, match="metrics"):
        lazy.compile(optimizer="sgd", loss="mse", metrics="accuracy")


def test_verbose_0_prints_nothing_and_2_prints_a_line_per_epoch(capsys):
    x, y = _blobs(40)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=3, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"Epoch {i}/3 - ")
        assert " - loss: " in line and " - accuracy: " in line and " - val_loss: " in line
    model.fit(x, y, epochs=2, verbose="auto")  # captured stdout is not a terminal: like 2
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_summary_prints_a_keras_table():
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                              layers.Dropout(0.5), layers.Dense(3)], name="clf")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "clf"' in text
    assert "dense (Dense)" in text and "(None, 8)" in text and "40" in text
    assert "dropout (Dropout)" in text and "dense_1 (Dense)" in text and "(None, 3)" in text
    assert "Total params: 67" in text and "Non-trainable params: 0" in text
    with pytest.raises(ValueError, match="not yet been built"):
        keras.Sequential([layers.Dense(2)]).summary()


# ---- callbacks ------------------------------------------------------------------------------
def test_callbacks_see_epochs_and_batches():
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("begin")

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch", epoch, sorted(logs)))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch", batch))

        def on_train_end(self, logs=None):
            events.append("end")

    x, y = _blobs(20)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[Recorder()])
    assert events == ["begin", ("batch", 0), ("batch", 1), ("epoch", 0, ["loss"]),
                      ("batch", 0), ("batch", 1), ("epoch", 1, ["loss"]), "end"]


def test_early_stopping_stops_and_restores_best_weights():
    x, y = _blobs(40)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    # A huge learning rate makes the validation loss get worse after the first epochs.
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=50.0), loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=10.0,
                                         restore_best_weights=True)
    hist = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert len(hist.history["loss"]) < 20 and stop.stopped_epoch > 0
    assert model.stop_training
    for got, want in zip(model.get_weights(), stop.best_weights):
        np.testing.assert_array_equal(got, want)


def test_history_records_epochs_from_initial_epoch():
    x, y = _blobs(20)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert hist.epoch == [2, 3] and model.history is hist


# ---- utils ----------------------------------------------------------------------------------
def test_to_categorical():
    out = keras.utils.to_categorical([0, 2, 1])
    np.testing.assert_array_equal(out, np.eye(3)[[0, 2, 1]])
    out = keras.utils.to_categorical(np.array([[1], [0]]), num_classes=4)
    assert out.shape == (2, 4) and out[0, 1] == 1
    assert keras.utils.to_categorical(np.array([[0, 1], [1, 1]])).shape == (2, 2, 2)
    with pytest.raises(ValueError, match="non-negative"):
        keras.utils.to_categorical([0, -1])
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        keras.utils.to_categorical([0, 3], num_classes=3)


def test_custom_layer_with_add_weight_trains():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, inputs):
            return inputs * self.w

    x = np.random.RandomState(0).randn(64, 3).astype(np.float32)
    y = x * np.array([2.0, -1.0, 0.5], np.float32)
    model = keras.Sequential([Scale(input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], [2.0, -1.0, 0.5], atol=1e-2)


def test_frozen_layer_is_not_updated():
    x, y = _blobs(64)
    model = keras.Sequential([layers.Dense(4, input_shape=(2,)),
                              layers.Dense(1, activation="sigmoid")])
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    trained = model.layers[1].get_weights()
    model.compile(optimizer=keras.optimizers.Adam(0.1, weight_decay=0.1),
                  loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    for got, want in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.layers[1].get_weights()[0], trained[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_dense_default_initializers():
    dense = layers.Dense(50)
    dense.build((None, 30))
    kernel, bias = dense.get_weights()
    limit = math.sqrt(6 / 80)
    assert np.abs(kernel).max() <= limit and kernel.std() > 0.5 * limit / math.sqrt(3)
    np.testing.assert_array_equal(bias, np.zeros(50))
    with pytest.raises(ValueError, match="regularizer identifier: l3"):
        layers.Dense(2, kernel_regularizer="l3")


def test_one_fit_step_is_plain_gradient_descent():
    rng = np.random.RandomState(7)
    x = rng.randn(8, 3).astype(np.float32)
    y = rng.randn(8, 1).astype(np.float32)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    kernel, bias = [w.astype(np.float64) for w in model.get_weights()]
    err = x @ kernel + bias - y
    hist = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert hist.history["loss"][0] == pytest.approx(np.mean(err ** 2), rel=1e-5)
    new_kernel, new_bias = model.get_weights()
    np.testing.assert_allclose(new_kernel, kernel - 0.1 * 2 / 8 * x.T @ err, rtol=1e-5)
    np.testing.assert_allclose(new_bias, bias - 0.1 * 2 / 8 * err.sum(0), rtol=1e-5)


def test_optimizer_instance_is_tied_to_its_first_variables():
    x, y = _blobs(20)
    opt = keras.optimizers.Adam()
    for expect_error in (False, True):
        model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
        model.compile(optimizer=opt, loss="binary_crossentropy")
        if expect_error:
            with pytest.raises(ValueError, match="Unknown variable: .* can only be called for "
                                                 "the variables it was originally built with"):
                model.fit(x, y, verbose=0)
        else:
            model.fit(x, y, verbose=0)


def test_set_random_seed_makes_training_repeatable():
    x, y = _blobs(40)
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        model = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(2,)),
                                  layers.Dropout(0.3), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        runs.append(model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"])
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="seed"):
        keras.utils.set_random_seed(1.5)


@pytest.mark.parametrize("from_logits", [False, True])
def test_batch_mean_losses_equal_the_mean_of_per_sample_losses(from_logits):
    # sum_over_batch_size without sample weights takes the batch mean in the loss kernel (one
    # node); it must be the mean of what the per-sample function returns.
    rng = np.random.RandomState(4)
    logits = rng.randn(6, 3)
    preds = logits if from_logits else _softmax(logits)
    labels = rng.randint(0, 3, 6)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    per_sample = keras.losses.sparse_categorical_crossentropy(
        labels, ember.from_numpy(preds), from_logits=from_logits)
    np.testing.assert_allclose(_loss(loss, labels, preds), per_sample.numpy().mean(), rtol=1e-12)
    weights = rng.rand(6)
    weighted = loss(labels, ember.from_numpy(preds), sample_weight=weights)
    np.testing.assert_allclose(weighted.item(), (per_sample.numpy() * weights).mean(),
                               rtol=1e-12)
    t, p = rng.randn(6, 2), rng.randn(6, 2)
    np.testing.assert_allclose(_loss("mse", t, p), np.mean((p - t) ** 2), rtol=1e-12)


def test_sparse_categorical_crossentropy_rejects_labels_out_of_range():
    # Keras ignores no class: -100 (PyTorch's ignore_index) is an out-of-range label too.
    probs = ember.from_numpy(_softmax(np.random.RandomState(5).randn(3, 4)))
    for labels in ([0, -100, 1], [0, 4, 1]):
        with pytest.raises(ValueError, match=r"target (-100|4) at position 1 is out of range "
                                             r"for 4 classes"):
            keras.losses.SparseCategoricalCrossentropy()(np.array(labels), probs)
        with pytest.raises(ValueError, match="out of range"):
            keras.losses.sparse_categorical_crossentropy(np.array(labels), probs)


def test_sequential_inference_still_runs_hooks_and_masks_added_after_the_first_call():
    """Sequential calls ember's own built layers directly (layer.call) when nothing else could
    happen in layer(x): a hook or an activity regularizer added later must still take effect."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    x = np.ones((2, 3), np.float32)
    model.predict_on_batch(x)
    seen = []
    model.layers[0].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model.predict_on_batch(x)
    assert seen == [(2, 4)]
    model.layers[1].activity_regularizer = keras.regularizers.L2(0.5)
    out = model(x)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]),
                               0.5 * float((out.detach().numpy() ** 2).sum()) / 2, rtol=1e-5)


def test_hooks_get_logs_positionally_and_the_old_batch_names_work_as_in_keras():
    seen = []

    class OldStyle(keras.callbacks.Callback):  # keras-io's LossHistory: logs has no default
        def on_train_begin(self, logs):
            seen.append(("begin", logs))

        def on_epoch_end(self, epoch, logs):
            seen.append(("epoch", epoch, sorted(logs)))

        def on_batch_end(self, batch, logs):
            seen.append(("batch", batch, sorted(logs)))

    x, y = _blobs(20)
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=10, verbose=0, callbacks=[OldStyle()])
    assert seen == [("begin", None), ("batch", 0, ["loss"]), ("batch", 1, ["loss"]),
                    ("epoch", 0, ["loss"])]
