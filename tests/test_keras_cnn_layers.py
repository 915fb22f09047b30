"""Keras-face CNN layers: Conv1D/2D, pooling, global pooling, BatchNormalization,
LayerNormalization, SpatialDropout, Reshape, ZeroPadding, Flatten(data_format) against NumPy
references of Keras' formulas; weight layouts; channels_first; gradients; saving; errors; and a
small CNN trained on the bundled digits."""
import itertools

import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers
from ember.testing import gradcheck


@pytest.fixture(autouse=True)
def _fresh():
    keras.utils.clear_session()
    ember.manual_seed(0)


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def _run(layer, x, training=False):
    layer.train(training)
    with ember.no_grad():
        return layer(ember.from_numpy(np.ascontiguousarray(x))).numpy()


# ---- NumPy references (Keras / TF formulas, channels_last) ----------------------------------
def _tf_same(size, k, s, d=1):
    """TF "same": output ceil(size / s), padding total split with the odd pixel at the end."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(padding, spatial, kernel, strides, dilation):
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "causal":
        return [((k - 1) * d, 0) for k, d in zip(kernel, dilation)]
    return [_tf_same(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation)]


def conv2d_ref(x, kernel, bias, strides, padding, dilation=(1, 1), groups=1):
    """x (N, H, W, C), Keras kernel (kh, kw, C/groups, F): explicit loops."""
    n, h, w, c = x.shape
    kh, kw, cg, f = kernel.shape
    (pt, pb), (pl, pr) = _pads(padding, (h, w), (kh, kw), strides, dilation)
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c))
    xp[:, pt:pt + h, pl:pl + w] = x
    oh = (h + pt + pb - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (w + pl + pr - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    out = np.zeros((n, oh, ow, f))
    fg = f // groups
    for b, i, j, o in itertools.product(range(n), range(oh), range(ow), range(f)):
        g = o // fg
        acc = 0.0
        for p, q, ci in itertools.product(range(kh), range(kw), range(cg)):
            acc += xp[b, i * strides[0] + p * dilation[0], j * strides[1] + q * dilation[1],
                      g * cg + ci] * kernel[p, q, ci, o]
        out[b, i, j, o] = acc + (0.0 if bias is None else bias[o])
    return out


def pool2d_ref(x, pool, strides, padding, kind):
    """Max ignores padding; average divides by the number of real pixels (Keras "same")."""
    n, h, w, c = x.shape
    (pt, pb), (pl, pr) = _pads(padding, (h, w), pool, strides, (1, 1))
    oh = (h + pt + pb - pool[0]) // strides[0] + 1
    ow = (w + pl + pr - pool[1]) // strides[1] + 1
    out = np.zeros((n, oh, ow, c))
    for i, j in itertools.product(range(oh), range(ow)):
        r0, c0 = i * strides[0] - pt, j * strides[1] - pl
        win = x[:, max(r0, 0):min(r0 + pool[0], h), max(c0, 0):min(c0 + pool[1], w)]
        out[:, i, j] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


# ---- Conv2D / Conv1D -------------------------------------------------------------------------
CONV2D_CASES = [
    # kernel, strides, padding, dilation, groups, use_bias, (H, W)
    ((3, 3), (1, 1), "valid", (1, 1), 1, True, (6, 5)),
    ((3, 3), (1, 1), "same", (1, 1), 1, True, (5, 5)),
    ((3, 3), (2, 2), "same", (1, 1), 1, True, (6, 7)),
    ((2, 2), (1, 1), "same", (1, 1), 1, False, (4, 5)),   # even kernel: extra pixel at the end
    ((4, 2), (2, 3), "same", (1, 1), 1, True, (7, 8)),
    ((2, 3), (2, 2), "valid", (1, 1), 2, True, (6, 7)),
    ((3, 3), (1, 1), "same", (2, 2), 1, True, (6, 6)),
    ((3, 3), (1, 1), "valid", (1, 2), 4, True, (5, 7)),   # depthwise
]


@pytest.mark.parametrize("kernel,strides,padding,dilation,groups,use_bias,hw", CONV2D_CASES)
def test_conv2d_matches_keras_formula(kernel, strides, padding, dilation, groups, use_bias, hw):
    x = _rand(2, *hw, 4)
    layer = layers.Conv2D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                          groups=groups, use_bias=use_bias, bias_initializer="random_normal")
    out = _run(layer, x)
    weights = layer.get_weights()
    assert weights[0].shape == kernel + (4 // groups, 4)
    expected = conv2d_ref(x, weights[0], weights[1] if use_bias else None, strides, padding,
                          dilation, groups)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_and_max_pooling_called_on_a_new_input_size_use_its_geometry(padding):
    # Both layers keep the checked geometry of the last input shape: another size must not
    # reuse it (nor may a bad size pass the checks once a good one was seen).
    # (Stride 2 with "same": the padding depends on the size.)
    conv = layers.Conv2D(3, 3, strides=2, padding=padding, bias_initializer="random_normal")
    pool = layers.MaxPooling2D(2, padding=padding)
    for hw in ((6, 5), (9, 8), (6, 5)):
        x = _rand(2, *hw, 4, seed=hw[0])
        out = _run(conv, x)
        kernel, bias = conv.get_weights()
        np.testing.assert_allclose(out, conv2d_ref(x, kernel, bias, (2, 2), padding),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(_run(pool, x),
                                      pool2d_ref(x, (2, 2), (2, 2), padding, "max"))
    with pytest.raises(ember.ShapeError, match="channels"):
        _run(conv, _rand(2, 6, 5, 3))
    if padding == "valid":
        with pytest.raises(ember.ShapeError, match="larger than the input"):
            _run(pool, _rand(2, 1, 5, 4))


def test_predict_on_batch_equals_predict_and_leaves_the_training_mode_alone():
    model = keras.Sequential([keras.Input(shape=(8, 8, 2)),
                              layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dropout(0.5), layers.Dense(3)])
    x = _rand(5, 8, 8, 2)
    model.train()  # (as a torch-style user might): dropout on
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, verbose=0))
    assert model.training  # dropout was off for the prediction, and is back on after it
    model.eval()
    model.predict_on_batch(x)
    assert not model.training
    assert model.predict_on_batch(x[:0]).shape[0] == 0


def test_same_padding_is_tf_rule_with_extra_pixel_at_the_end():
    # 4 wide, kernel 3, stride 2: TF pads (0, 1); a symmetric pad would read column 0 first.
    assert _tf_same(4, 3, 2) == (0, 1) and _tf_same(5, 3, 2) == (1, 1)
    assert _tf_same(4, 2, 1) == (0, 1) and _tf_same(5, 1, 2) == (0, 0)
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    layer = layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    layer.build((None, 4, 4, 1))
    k = np.zeros((3, 3, 1, 1), np.float32)
    k[0, 0] = 1.0  # picks the top-left pixel of each window
    layer.set_weights([k])
    np.testing.assert_array_equal(_run(layer, x)[0, :, :, 0], [[0, 2], [8, 10]])


@pytest.mark.parametrize("padding,strides,dilation", [("valid", 1, 1), ("same", 2, 1),
                                                      ("causal", 1, 2), ("same", 1, 3)])
def test_conv1d_matches_keras_formula(padding, strides, dilation):
    x = _rand(2, 9, 3)
    layer = layers.Conv1D(5, 3, strides=strides, padding=padding, dilation_rate=dilation,
                          bias_initializer="random_normal")
    out = _run(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 5) and bias.shape == (5,)
    (pl, pr), = _pads(padding, (9,), (3,), (strides,), (dilation,))
    # A 1-D convolution is a 2-D one over a height-1 image.
    expected = conv2d_ref(x[:, None], kernel[None], bias, (1, strides), "valid", (1, dilation)) \
        if (pl, pr) == (0, 0) else conv2d_ref(
            np.pad(x, ((0, 0), (pl, pr), (0, 0)))[:, None], kernel[None], bias, (1, strides),
            "valid", (1, dilation))
    np.testing.assert_allclose(out, expected[:, 0], rtol=1e-4, atol=1e-5)
    if padding == "causal":  # output t sees inputs up to t only
        x2 = x.copy()
        x2[:, 5:] = 0.0
        np.testing.assert_allclose(_run(layer, x2)[:, :5], out[:, :5], rtol=1e-5, atol=1e-6)


def test_conv_weights_keras_layout_and_pytorch_module_agree():
    layer = layers.Conv2D(6, (3, 2), padding="valid")
    layer.build((None, 7, 6, 4))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 4, 6) and bias.shape == (6,)
    assert tuple(layer.weight.shape) == (6, 4, 3, 2)  # stored in PyTorch layout
    new_kernel, new_bias = _rand(3, 2, 4, 6, seed=1), _rand(6, seed=2)
    layer.set_weights([new_kernel, new_bias])
    got_kernel, got_bias = layer.get_weights()
    np.testing.assert_array_equal(got_kernel, new_kernel)
    np.testing.assert_array_equal(got_bias, new_bias)

    torch_face = ember.nn.Conv2d(4, 6, (3, 2))
    with ember.no_grad():
        torch_face.weight.copy_(ember.from_numpy(np.ascontiguousarray(
            new_kernel.transpose(3, 2, 0, 1))))
        torch_face.bias.copy_(ember.from_numpy(new_bias))
    x = _rand(2, 7, 6, 4, seed=3)
    with ember.no_grad():
        nchw = torch_face(ember.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(_run(layer, x), nchw.numpy().transpose(0, 2, 3, 1), rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match=r"\(3, 2, 4, 6\).*\(6, 4, 3, 2\)"):
        layer.set_weights([new_kernel.transpose(3, 2, 0, 1), new_bias])


def test_conv1d_weights_keras_layout_round_trip():
    layer = layers.Conv1D(4, 5, groups=2)
    layer.build((None, 10, 6))
    kernel = _rand(5, 3, 4)
    layer.set_weights([kernel, np.zeros(4, np.float32)])
    assert tuple(layer.weight.shape) == (4, 3, 5)
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_array_equal(layer.weight.detach().numpy()[:, :, 0], kernel[0].T)


def test_conv_kernel_initializer_uses_keras_fans():
    """glorot_uniform limit sqrt(6 / (fan_in + fan_out)), fan_in = kh*kw*in/groups,
    fan_out = kh*kw*filters (Keras' compute_fans of the (kh, kw, in/groups, out) kernel)."""
    layer = layers.Conv2D(64, 3, groups=2)
    layer.build((None, 8, 8, 32))
    kernel = layer.get_weights()[0]
    limit = np.sqrt(6.0 / (9 * 16 + 9 * 64))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.99 * limit
    np.testing.assert_allclose(kernel.var(), limit ** 2 / 3, rtol=0.05)


def test_conv_activation_and_no_bias():
    layer = layers.Conv2D(3, 2, activation="relu", use_bias=False)
    x = _rand(2, 4, 4, 2)
    out = _run(layer, x)
    assert len(layer.get_weights()) == 1 and (out >= 0).all() and (out == 0).any()
    np.testing.assert_allclose(out, np.maximum(conv2d_ref(x, layer.get_weights()[0], None,
                                                          (1, 1), "valid"), 0), atol=1e-5)


# ---- pooling ---------------------------------------------------------------------------------
POOL_CASES = [((2, 2), None, "valid", (6, 7)), ((2, 2), None, "same", (5, 7)),
              ((3, 3), (2, 2), "same", (6, 7)), ((3, 2), (1, 2), "same", (4, 5)),
              ((3, 3), (3, 3), "same", (7, 5)), ((2, 3), (2, 1), "valid", (5, 6))]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool,strides,padding,hw", POOL_CASES)
def test_pooling2d_matches_keras_formula(kind, pool, strides, padding, hw):
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    x = _rand(2, *hw, 3)
    out = _run(cls(pool, strides=strides, padding=padding), x)
    expected = pool2d_ref(x, pool, strides or pool, padding, kind)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_average_pooling_same_excludes_padding_from_the_count():
    x = np.ones((1, 3, 3, 1), np.float32)
    out = _run(layers.AveragePooling2D(2, padding="same"), x)
    np.testing.assert_array_equal(out, np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                  (2, 1, "same")])
def test_pooling1d_matches_keras_formula(kind, pool, strides, padding):
    cls = layers.MaxPooling1D if kind == "max" else layers.AveragePooling1D
    x = _rand(2, 7, 3)
    out = _run(cls(pool, strides=strides, padding=padding), x)
    expected = pool2d_ref(x[:, None], (1, pool), (1, strides or pool), padding, kind)[:, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(keepdims):
    x2, x1 = _rand(2, 4, 5, 3), _rand(2, 6, 3)
    cases = [(layers.GlobalAveragePooling2D, x2, x2.mean(axis=(1, 2))),
             (layers.GlobalMaxPooling2D, x2, x2.max(axis=(1, 2))),
             (layers.GlobalAveragePooling1D, x1, x1.mean(axis=1)),
             (layers.GlobalMaxPooling1D, x1, x1.max(axis=1))]
    for cls, x, expected in cases:
        out = _run(cls(keepdims=keepdims), x)
        if keepdims:
            expected = expected.reshape((2,) + (1,) * (x.ndim - 2) + (3,))
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("rank", [1, 2])
def test_global_average_pooling_float64_both_formats(rank, data_format, keepdims):
    cls = layers.GlobalAveragePooling1D if rank == 1 else layers.GlobalAveragePooling2D
    x = np.random.RandomState(3).randn(*((3, 7, 4) if rank == 1 else (3, 5, 6, 4)))
    axes = tuple(range(1, 1 + rank)) if data_format == "channels_last" else \
        tuple(range(2, 2 + rank))
    layer = cls(data_format=data_format, keepdims=keepdims)
    with ember.no_grad():
        out = layer(ember.from_numpy(x)).numpy()
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, x.mean(axis=axes, keepdims=keepdims), rtol=1e-13, atol=1e-14)


def test_global_average_pooling_of_no_positions_is_nan():
    with ember.no_grad():
        out = layers.GlobalAveragePooling1D()(ember.from_numpy(np.zeros((2, 0, 3), np.float32)))
    assert out.shape == (2, 3) and np.isnan(out.numpy()).all()


# ---- channels_first == channels_last on transposed data -------------------------------------
def _to_first(x):
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


@pytest.mark.parametrize("make", [
    lambda f: layers.Conv2D(5, (3, 2), strides=2, padding="same", data_format=f),
    lambda f: layers.Conv2D(4, 3, groups=2, dilation_rate=2, padding="same", data_format=f),
    lambda f: layers.MaxPooling2D(3, 2, padding="same", data_format=f),
    lambda f: layers.AveragePooling2D(3, 2, padding="same", data_format=f),
    lambda f: layers.GlobalAveragePooling2D(data_format=f, keepdims=True),
    lambda f: layers.GlobalMaxPooling2D(data_format=f, keepdims=True),
    lambda f: layers.ZeroPadding2D(((1, 2), (0, 3)), data_format=f),
])
def test_channels_first_equals_channels_last_on_transposed_data_2d(make):
    x = _rand(2, 6, 7, 4)
    last, first = make("channels_last"), make("channels_first")
    last._maybe_build(x.shape)
    first._maybe_build(_to_first(x).shape)
    if last.get_weights():
        first.set_weights(last.get_weights())  # same Keras layout either way
    np.testing.assert_allclose(_run(first, _to_first(x)), _to_first(_run(last, x)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda f: layers.Conv1D(5, 3, strides=2, padding="same", data_format=f),
    lambda f: layers.Conv1D(3, 2, padding="causal", dilation_rate=2, data_format=f),
    lambda f: layers.MaxPooling1D(3, 2, padding="same", data_format=f),
    lambda f: layers.AveragePooling1D(2, data_format=f),
    lambda f: layers.GlobalAveragePooling1D(data_format=f, keepdims=True),
    lambda f: layers.ZeroPadding1D((2, 1), data_format=f),
])
def test_channels_first_equals_channels_last_on_transposed_data_1d(make):
    x = _rand(2, 9, 4)
    last, first = make("channels_last"), make("channels_first")
    last._maybe_build(x.shape)
    first._maybe_build(_to_first(x).shape)
    if last.get_weights():
        first.set_weights(last.get_weights())
    np.testing.assert_allclose(_run(first, _to_first(x)), _to_first(_run(last, x)), rtol=1e-5,
                               atol=1e-5)


def test_flatten_channels_first_orders_features_like_channels_last():
    x = _rand(2, 3, 4, 5)
    np.testing.assert_array_equal(_run(layers.Flatten(data_format="channels_first"),
                                       _to_first(x)), x.reshape(2, -1))
    np.testing.assert_array_equal(_run(layers.Flatten(), x), x.reshape(2, -1))
    assert layers.Flatten(data_format="channels_first").get_config()["data_format"] == \
        "channels_first"


def test_batch_normalization_axis_1_equals_axis_minus_1_on_transposed_data():
    x = _rand(8, 3, 4, 5)
    last, first = layers.BatchNormalization(), layers.BatchNormalization(axis=1)
    for training in (True, False):
        np.testing.assert_allclose(_run(first, _to_first(x), training),
                                   _to_first(_run(last, x, training)), rtol=1e-5, atol=1e-5)
    for a, b in zip(first.get_weights(), last.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ---- BatchNormalization ----------------------------------------------------------------------
def test_batch_normalization_training_inference_and_keras_moving_statistics():
    momentum, eps = 0.9, 1e-3
    layer = layers.BatchNormalization(momentum=momentum, epsilon=eps,
                                      gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    layer.build((None, 4, 5, 3))
    gamma, beta, mean, var = layer.get_weights()
    np.testing.assert_array_equal(mean, np.zeros(3))
    np.testing.assert_array_equal(var, np.ones(3))
    for step in range(4):
        x = _rand(6, 4, 5, 3, seed=step) * (step + 1) + step
        batch_mean, batch_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # biased
        out = _run(layer, x, training=True)
        np.testing.assert_allclose(out, (x - batch_mean) / np.sqrt(batch_var + eps) * gamma
                                   + beta, rtol=1e-4, atol=1e-4)
        mean = momentum * mean + (1 - momentum) * batch_mean
        var = momentum * var + (1 - momentum) * batch_var
        np.testing.assert_allclose(layer.get_weights()[2], mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.get_weights()[3], var, rtol=1e-5, atol=1e-6)
    x = _rand(3, 4, 5, 3, seed=9)
    np.testing.assert_allclose(_run(layer, x, training=False),
                               (x - mean) / np.sqrt(var + eps) * gamma + beta, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(layer.get_weights()[2], mean, rtol=1e-5, atol=1e-6)  # unchanged


def test_batch_normalization_follows_model_mode_and_training_argument():
    x = _rand(16, 3, seed=1) * 3 + 2
    layer = layers.BatchNormalization()
    model = keras.Sequential([layers.Input((3,)), layer])
    model.eval()
    with ember.no_grad():
        np.testing.assert_allclose(model(x).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-5)
        out = layer(ember.from_numpy(x), training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[2], 0.01 * x.mean(axis=0), rtol=1e-5)


def test_batch_normalization_weights_and_trainable():
    layer = layers.BatchNormalization()
    model = keras.Sequential([layers.Input((4, 4, 2)), layers.Conv2D(3, 2), layer])
    assert [w.shape for w in layer.get_weights()] == [(3,)] * 4
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    assert layer.count_params() == 12
    assert len(list(model.parameters())) == 4  # moving statistics are not optimized
    layer.trainable = False
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 4
    # A frozen BatchNormalization runs in inference mode, as in Keras, even while training.
    x = _rand(5, 3, 3, 3) + 1.0
    np.testing.assert_allclose(_run(layer, x, training=True), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(3))
    layer.trainable = True
    assert len(layer.trainable_weights) == 2
    only_shift = layers.BatchNormalization(scale=False)
    only_shift.build((None, 5))
    assert [w.shape for w in only_shift.get_weights()] == [(5,)] * 3
    only_shift.set_weights([np.full(5, 2.0), np.full(5, 1.0), np.full(5, 4.0)])
    np.testing.assert_allclose(_run(only_shift, np.ones((2, 5), np.float32)),
                               2.0 + (1 - 1.0) / np.sqrt(4 + 1e-3) + 0 * 2, rtol=1e-6)


def test_batch_normalization_single_sample_like_keras():
    """Keras normalizes a batch of one (variance 0) instead of refusing it as PyTorch does."""
    layer = layers.BatchNormalization(beta_initializer="ones")
    x = np.array([[0.5, 2.0, -1.0]], np.float32)
    np.testing.assert_allclose(_run(layer, x, training=True), np.ones((1, 3)))
    np.testing.assert_allclose(layer.get_weights()[2], 0.01 * x[0], rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[3], np.full(3, 0.99), rtol=1e-6)


def test_batch_normalization_middle_axis():
    x = _rand(4, 3, 5, seed=4)
    layer = layers.BatchNormalization(axis=1, epsilon=1e-3)
    out = _run(layer, x, training=True)
    mean, var = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    layer2 = layers.BatchNormalization(axis=2)  # neither first nor last feature axis
    y = _rand(4, 5, 3, 6, seed=5)
    out2 = _run(layer2, y, training=True)
    mean2, var2 = y.mean(axis=(0, 1, 3), keepdims=True), y.var(axis=(0, 1, 3), keepdims=True)
    np.testing.assert_allclose(out2, (y - mean2) / np.sqrt(var2 + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer2.get_weights()[3], 0.99 + 0.01 * var2.reshape(-1),
                               rtol=1e-5)


# ---- LayerNormalization ----------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, [1, 2, 3], [1, 3], 2])
def test_layer_normalization_matches_keras_formula(axis):
    x = _rand(2, 3, 4, 5) * 2 + 1
    layer = layers.LayerNormalization(axis=axis, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    out = _run(layer, x)
    axes = tuple(np.atleast_1d(axis) % 4)
    gamma, beta = layer.get_weights()
    assert gamma.shape == tuple(x.shape[a] for a in axes)
    bshape = [x.shape[a] if a in axes else 1 for a in range(4)]
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma.reshape(bshape) + beta.reshape(bshape)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


# ---- ReLU ------------------------------------------------------------------------------------
def _relu_reference(x, max_value=None, negative_slope=0.0, threshold=0.0):
    out = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return out if max_value is None else np.where(x >= max_value, max_value, out)


RELU_ARGS = [{}, {"max_value": 6}, {"negative_slope": 0.3}, {"threshold": 0.5},
             {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.25}]


@pytest.mark.parametrize("kwargs", RELU_ARGS, ids=str)
def test_relu_layer_matches_keras_formula_and_gradients(kwargs):
    x = _rand(4, 6, 3, seed=2) * 2
    layer = layers.ReLU(**kwargs)
    out = _run(layer, x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _relu_reference(x, **kwargs), rtol=1e-6, atol=1e-7)
    model = keras.Sequential([layers.Input((6, 3)), layers.ReLU(**kwargs)])
    # Finite differences need the inputs away from the kinks.
    x = _rand(2, 6, 3, seed=3) * 2
    x[np.abs(x - kwargs.get("threshold", 0.0)) < 0.05] += 0.1
    if "max_value" in kwargs:
        x[np.abs(x - kwargs["max_value"]) < 0.05] += 0.1
    _gradcheck_model(model, x)
    assert layers.ReLU.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("kwargs,name", [({"max_value": -1}, "max_value"),
                                         ({"negative_slope": -0.1}, "negative_slope"),
                                         ({"threshold": -2.0}, "threshold"),
                                         ({"threshold": None}, "threshold")])
def test_relu_layer_rejects_negative_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} of a ReLU layer cannot be a negative value. "
                                         f"Received: {name}="):
        layers.ReLU(**kwargs)


# ---- SpatialDropout, Reshape, ZeroPadding ----------------------------------------------------
@pytest.mark.parametrize("cls,shape,spatial", [(layers.SpatialDropout2D, (8, 3, 4, 16), (1, 2)),
                                               (layers.SpatialDropout1D, (8, 5, 16), (1,))])
def test_spatial_dropout_drops_whole_channels(cls, shape, spatial):
    x = np.ones(shape, np.float32)
    for layer in (cls(0.5), cls(0.5, seed=3)):
        out = _run(layer, x, training=True)
        first = out[(slice(None),) + (0,) * len(spatial)]  # (batch, channels)
        np.testing.assert_array_equal(out, np.broadcast_to(
            first.reshape(shape[0], *(1,) * len(spatial), shape[-1]), shape))
        assert set(np.unique(first)) == {0.0, 2.0}
        np.testing.assert_array_equal(_run(layer, x, training=False), x)
    seeded = [_run(cls(0.5, seed=3), x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])


def test_spatial_dropout2d_channels_first_masks_channels():
    x = np.ones((4, 8, 3, 3), np.float32)
    out = _run(layers.SpatialDropout2D(0.5, data_format="channels_first"), x, training=True)
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :, :1, :1], x.shape))


def test_reshape():
    x = _rand(3, 4, 6)
    np.testing.assert_array_equal(_run(layers.Reshape((2, -1, 3)), x), x.reshape(3, 2, 4, 3))
    np.testing.assert_array_equal(_run(layers.Reshape((24,)), x), x.reshape(3, 24))
    assert layers.Reshape((-1, 4)).compute_output_shape((None, 4, 6)) == (None, 6, 4)
    with pytest.raises(ember.ShapeError, match=r"Reshape.*\(4, 6\).*\(5, -1\)"):
        _run(layers.Reshape((5, -1)), x)
    with pytest.raises(ember.ShapeError, match="unchanged"):
        _run(layers.Reshape((5, 5)), x)
    for bad in [(-1, -1), (0, 3), (2.5,), "ab"]:
        with pytest.raises(ValueError, match="Reshape: target_shape"):
            layers.Reshape(bad)


def test_zero_padding2d_forms():
    x = _rand(2, 3, 4, 2)
    for padding, (t, b, l, r) in [(1, (1, 1, 1, 1)), ((2, 1), (2, 2, 1, 1)),
                                  (((1, 0), (0, 3)), (1, 0, 0, 3))]:
        out = _run(layers.ZeroPadding2D(padding), x)
        np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (t, b), (l, r), (0, 0))))
    out = _run(layers.ZeroPadding1D((1, 2)), x[:, 0])
    np.testing.assert_array_equal(out, np.pad(x[:, 0], ((0, 0), (1, 2), (0, 0))))
    for bad in [-1, (1, 2, 3), ((1, 2), (3,)), ((1, -2), (0, 0)), "a"]:
        with pytest.raises(ValueError, match="ZeroPadding2D: padding"):
            layers.ZeroPadding2D(bad)


# ---- gradients -------------------------------------------------------------------------------
def _gradcheck_model(model, x):
    """Checks d(model(x)) w.r.t. the input and every trainable weight (float64)."""
    model.double()
    slots = [(layer, name) for layer in model.layers for name, p in layer._parameters.items()
             if p is not None and p.requires_grad]

    def f(inp, *params):
        saved = [layer._parameters[name] for layer, name in slots]
        for (layer, name), p in zip(slots, params):
            layer._parameters[name] = p
        try:
            return model(inp)
        finally:
            for (layer, name), p in zip(slots, saved):
                layer._parameters[name] = p

    params = [layer._parameters[name].detach().requires_grad_() for layer, name in slots]
    xt = ember.from_numpy(x.astype(np.float64)).requires_grad_()
    assert gradcheck(f, (xt, *params), atol=1e-6, rtol=1e-4)


def test_gradients_of_a_small_cnn_in_training_mode():
    model = keras.Sequential([
        layers.Input((5, 5, 2)),
        layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh",
                      bias_initializer="random_normal"),
        layers.BatchNormalization(gamma_initializer="random_normal"),
        layers.MaxPooling2D(2, padding="same"),
        layers.Flatten(), layers.Dense(2)])
    model.train()
    _gradcheck_model(model, _rand(2, 5, 5, 2, seed=7))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_gradients_of_the_timeseries_cnn_block_in_training_mode(data_format):
    # keras-io's "Timeseries classification from scratch" block, small: Conv1D "same" ->
    # BatchNormalization -> ReLU, twice, global average, softmax.
    axis = -1 if data_format == "channels_last" else 1
    shape = (9, 2) if data_format == "channels_last" else (2, 9)
    model = keras.Sequential([layers.Input(shape)] + [
        layer for filters in (3, 4) for layer in (
            layers.Conv1D(filters, 3, padding="same", data_format=data_format,
                          bias_initializer="random_normal"),
            layers.BatchNormalization(axis=axis, gamma_initializer="random_normal",
                                      beta_initializer="random_normal"),
            layers.ReLU())] + [
        layers.GlobalAveragePooling1D(data_format=data_format),
        layers.Dense(2, activation="softmax")])
    model.train()
    _gradcheck_model(model, _rand(3, *shape, seed=11))


def test_gradients_conv1d_pooling_layer_norm_channels_first():
    model = keras.Sequential([
        layers.Input((3, 7)),
        layers.ZeroPadding1D(1, data_format="channels_first"),
        layers.Conv1D(4, 2, dilation_rate=2, groups=1, data_format="channels_first",
                      bias_initializer="random_normal"),
        layers.AveragePooling1D(2, padding="same", data_format="channels_first"),
        layers.LayerNormalization(axis=[1, 2], gamma_initializer="random_normal"),
        layers.GlobalMaxPooling1D(data_format="channels_first"),
        layers.Reshape((2, 2))])
    model.eval()
    _gradcheck_model(model, _rand(2, 3, 7, seed=8))


def test_gradients_depthwise_conv_and_global_average():
    model = keras.Sequential([
        layers.Input((4, 5, 2)),
        layers.Conv2D(4, (2, 3), groups=2, padding="same", use_bias=False),
        layers.AveragePooling2D((2, 2), strides=1),
        layers.GlobalAveragePooling2D()])
    _gradcheck_model(model, _rand(2, 4, 5, 2, seed=9))


# ---- saving ----------------------------------------------------------------------------------
def _cnn():
    return keras.Sequential([
        layers.Input((8, 8, 1)),
        layers.ZeroPadding2D(1),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.8),
        layers.SpatialDropout2D(0.1),
        layers.MaxPooling2D(pool_size=(2, 2), padding="same"),
        layers.Reshape((-1, 4)),
        layers.Conv1D(3, 2, padding="causal"),
        layers.LayerNormalization(),
        layers.GlobalAveragePooling1D(),
        layers.Flatten(), layers.Dense(3, activation="softmax")])


def test_every_cnn_layer_is_registered_for_loading():
    registry = keras.saving._layer_classes()
    for name in ["Conv1D", "Conv2D", "ReLU", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                 "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                 "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization",
                 "LayerNormalization", "SpatialDropout1D", "SpatialDropout2D", "Flatten",
                 "Reshape", "ZeroPadding1D", "ZeroPadding2D"]:
        assert registry[name] is getattr(layers, name)


def test_save_and_load_model_round_trip(tmp_path):
    rng = np.random.RandomState(0)
    x, y = rng.rand(32, 8, 8, 1).astype(np.float32), rng.randint(0, 3, 32)
    model = _cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    bn = model.layers[2]
    assert not np.allclose(bn.get_weights()[2], 0)  # the moving statistics moved
    path = tmp_path / "cnn.ember"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    for a, b in zip(loaded.layers, model.layers):
        assert a.get_config() == b.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    lines = []
    loaded.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 10, 10, 1)" in text and "(None, 5, 5, 4)" in text and "(None, 3)" in text


def test_summary_output_shapes_and_counts():
    model = keras.Sequential([layers.Conv2D(16, 3, activation="relu", input_shape=(8, 8, 1)),
                              layers.MaxPooling2D(), layers.BatchNormalization(),
                              layers.Flatten(), layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append, line_length=100)
    text = "\n".join(lines)
    for shape in ["(None, 6, 6, 16)", "(None, 3, 3, 16)", "(None, 144)", "(None, 10)"]:
        assert shape in text
    assert "Total params: 1,674" in text and "Non-trainable params: 32" in text


# ---- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,message", [
    (lambda: layers.Conv2D(8, (0, 3)),
     r"Conv2D: kernel_size must be positive integers. Received: kernel_size=\(0, 3\)"),
    (lambda: layers.Conv2D(0, 3), r"Conv2D: filters must be a positive integer. "
                                  r"Received: filters=0"),
    (lambda: layers.Conv2D(8, 3, strides=0), r"Conv2D: strides must be positive"),
    (lambda: layers.Conv2D(8, (3, 3, 3)), r"Conv2D: kernel_size must be an integer or a tuple"),
    (lambda: layers.Conv2D(8, 3, padding="full"), r"Conv2D: padding must be one of"),
    (lambda: layers.Conv2D(8, 3, padding="causal"), r"Conv2D: padding must be one of"),
    (lambda: layers.Conv2D(8, 3, data_format="NHWC"), r"Conv2D: data_format must be one of"),
    (lambda: layers.Conv2D(6, 3, groups=4), r"evenly divisible.*groups=4, filters=6"),
    (lambda: layers.Conv2D(6, 3, strides=2, dilation_rate=2), r"dilation_rate > 1"),
    (lambda: layers.Conv1D(4, 2.5), r"Conv1D: kernel_size"),
    (lambda: layers.MaxPooling2D((2, 0)), r"MaxPooling2D: pool_size must be positive"),
    (lambda: layers.AveragePooling1D(2, strides=-1), r"AveragePooling1D: strides"),
    (lambda: layers.MaxPooling1D(padding="causal"), r"MaxPooling1D: padding"),
    (lambda: layers.GlobalMaxPooling2D(data_format="NCHW"), r"GlobalMaxPooling2D: data_format"),
    (lambda: layers.BatchNormalization(momentum=1.5), r"BatchNormalization: momentum"),
    (lambda: layers.BatchNormalization(epsilon=0), r"BatchNormalization: epsilon"),
    (lambda: layers.BatchNormalization(axis="x"), r"BatchNormalization: axis"),
    (lambda: layers.LayerNormalization(epsilon=-1), r"LayerNormalization: epsilon"),
    (lambda: layers.LayerNormalization(axis=1.5), r"LayerNormalization: axis"),
    (lambda: layers.SpatialDropout2D(1.5), r"SpatialDropout2D: .*rate"),
])
def test_bad_hyper_parameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shape_errors_name_the_layer_and_shapes():
    conv = layers.Conv2D(4, 3, name="c")
    with pytest.raises(ember.ShapeError, match=r'Conv2D "c": expected input of 4 dimensions '
                                               r"\(batch, height, width, channels\).*\(2, 8, 8\)"):
        conv(np.zeros((2, 8, 8), np.float32))
    assert not conv.built
    # NCHW data given to a channels_last model built for (8, 8, 1).
    conv(np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(ember.ShapeError, match=r"channels_last.*1 channels.*\(2, 1, 8, 8\).*"
                                               r"channels_first"):
        conv(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ember.ShapeError, match=r"kernel \(3, 3\).*larger.*\(2, 2\)"):
        conv(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"divisible.*groups=2.*3 channels"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ember.ShapeError, match=r"MaxPooling2D.*pool_size \(3, 3\).*\(2, 2\)"):
        layers.MaxPooling2D(3)(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(ember.ShapeError, match=r"Conv1D.*3 dimensions \(batch, steps, channels"):
        layers.Conv1D(2, 2)(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ember.ShapeError, match=r"GlobalAveragePooling2D.*\(batch, channels, "
                                               r"height, width\)"):
        layers.GlobalAveragePooling2D(data_format="channels_first")(np.zeros((1, 4), np.float32))
    bn = layers.BatchNormalization()
    bn(np.zeros((2, 3, 3, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r"4 features.*\(2, 4, 3, 3\)"):
        bn(np.zeros((2, 4, 3, 3), np.float32))
    with pytest.raises(ember.ShapeError, match="BatchNormalization.*axis=3"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))
    ln = layers.LayerNormalization(axis=[1, 2])
    ln(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r"LayerNormalization.*\(2, 3, 5\)"):
        ln(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ember.ShapeError, match="SpatialDropout1D"):
        layers.SpatialDropout1D(0.1)(np.zeros((2, 3, 4, 5), np.float32), training=True)


def test_unsupported_arguments_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="synchronized"):
        layers.BatchNormalization(synchronized=True)
    with pytest.raises(NotImplementedError, match="rms_scaling"):
        layers.LayerNormalization(rms_scaling=True)


# ---- end to end ------------------------------------------------------------------------------
def test_keras_cnn_learns_the_digits():
    (x_train, y_train), (x_test, y_test) = ember.datasets.load_digits()
    x_train = x_train.reshape(-1, 8, 8, 1).astype(np.float32) / 16
    x_test = x_test.reshape(-1, 8, 8, 1).astype(np.float32) / 16
    model = keras.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, batch_size=16, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.9, (loss, accuracy)
