"""A ReLU fused into batch normalization (the kernels' `fuse_relu` and `relu_output` gradient
mask; F.batch_norm(fuse_relu=True); nn.Sequential fusing BatchNorm*d + nn.ReLU; Keras
Sequential fusing BatchNormalization + ReLU() or Activation("relu")): the same values and
gradients as the separate ReLU, NaN included."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _core, keras
from ember.keras import layers
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(9)
EPS = 1e-3
# (N, C, L) shapes: one statistics block, several (a short last one), and (N, C).
SHAPES = [(3, 4, 5), (37, 5, 300), (40, 6)]


def channels_last(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def _inputs(shape, dtype, last):
    x = (rng.standard_normal(shape) + 0.3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    if last:
        x, g = channels_last(x), channels_last(g)
    return x, g, w, b


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("last", [False, True], ids=["first", "last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_relu_of_batch_norm_and_its_masked_gradient(shape, last, dtype):
    x, g, w, b = _inputs(shape, dtype, last)
    plain, mean, var = _core.batch_norm_forward_train(x, w, b, EPS, last)
    fused, fmean, fvar = _core.batch_norm_forward_train(x, w, b, EPS, last, True)
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    np.testing.assert_array_equal(fmean, mean)
    np.testing.assert_array_equal(fvar, var)
    invstd = (1 / np.sqrt(var.astype(np.float64) + EPS)).astype(dtype)
    masked = np.where(plain > 0, g, 0).astype(dtype)
    for training in (True, False):
        want = _core.batch_norm_backward(masked, x, mean, invstd, w, training, last)
        got = _core.batch_norm_backward(g, x, mean, invstd, w, training, last,
                                        relu_output=fused)
        for a, e in zip(got, want):  # the same values summed in the same order
            np.testing.assert_array_equal(a, e)
    plain_eval = _core.batch_norm_forward_eval(x, mean, var, w, b, EPS, last)
    np.testing.assert_array_equal(_core.batch_norm_forward_eval(x, mean, var, w, b, EPS, last,
                                                                True),
                                  np.maximum(plain_eval, 0))


@pytest.mark.parametrize("last", [False, True], ids=["first", "last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_identical_with_one_and_two_threads(restore_threads, last, dtype):
    x, g, w, b = _inputs((16, 8, 400), dtype, last)  # several blocks per thread
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y, mean, var = _core.batch_norm_forward_train(x, w, b, EPS, last, True)
        invstd = (1 / np.sqrt(var.astype(np.float64) + EPS)).astype(dtype)
        results.append([y, mean, var,
                        _core.batch_norm_forward_eval(x, mean, var, w, b, EPS, last, True),
                        *_core.batch_norm_backward(g, x, mean, invstd, w, True, last,
                                                   relu_output=y),
                        *_core.batch_norm_backward(g, x, mean, invstd, w, False, last,
                                                   relu_output=y)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_kernels_keep_nan_and_mask_its_gradient():
    x = rng.standard_normal((4, 3, 5))
    x[1, 2, 3] = np.nan
    y, _, _ = _core.batch_norm_forward_train(x, None, None, EPS, False, True)
    assert np.isnan(y[:, 2]).all() and (y[:, :2] >= 0).all()  # NaN stays NaN, as torch.relu
    mean, var = np.zeros(3), np.ones(3)
    y = _core.batch_norm_forward_eval(x, mean, var, None, None, EPS, False, True)
    assert np.isnan(y[1, 2, 3]) and np.isnan(y).sum() == 1
    gi, _, gb = _core.batch_norm_backward(np.ones_like(y), x, mean, 1 / np.sqrt(var + EPS),
                                          None, False, relu_output=y)
    # A NaN output is not > 0: its gradient is masked, like torch's threshold_backward.
    assert gi[1, 2, 3] == 0 and np.isfinite(gi).all()
    np.testing.assert_array_equal(gi, (y > 0) / np.sqrt(1 + EPS))
    assert gb[2] == (y[:, 2] > 0).sum()


def test_kernel_rejects_a_relu_output_of_another_shape_or_dtype():
    x = rng.standard_normal((4, 3, 5))
    y, mean, var = _core.batch_norm_forward_train(x, None, None, EPS, False, True)
    with pytest.raises(_core.ShapeError, match=r"batch_norm_backward: relu_output has shape "
                                               r"\(4, 3, 4\) but input has shape \(4, 3, 5\)"):
        _core.batch_norm_backward(y, x, mean, var, None, True, relu_output=y[..., :4])
    with pytest.raises(TypeError, match=r"batch_norm_backward: relu_output has dtype float32 "
                                        r"but expected float64"):
        _core.batch_norm_backward(y, x, mean, var, None, True,
                                  relu_output=y.astype(np.float32))


@pytest.mark.parametrize("last", [False, True], ids=["first", "last"])
@pytest.mark.parametrize("training", [True, False])
def test_functional_fuse_relu_gradcheck_and_equality(last, training):
    shape = (3, 4, 5)
    x = rng.standard_normal(shape) + 0.2
    if last:
        x = channels_last(x)
    x = ember.tensor(x, requires_grad=True)
    w, b = (ember.tensor(rng.standard_normal(4), requires_grad=True) for _ in range(2))
    mean, var = ember.tensor(rng.standard_normal(4)), ember.tensor(rng.uniform(0.5, 2, 4))

    def call(a, w_, b_, fuse):
        return F.batch_norm(a, None if training else mean, None if training else var, w_, b_,
                            training=training, eps=EPS, channels_last=last, fuse_relu=fuse)

    assert gradcheck(lambda *a: call(*a, True), (x, w, b))
    np.testing.assert_array_equal(call(x, w, b, True).detach().numpy(),
                                  F.relu(call(x, w, b, False)).detach().numpy())


def _producers(model, index, seen):
    model[index].register_forward_pre_hook(lambda m, a: seen.append(a[0].grad_fn.name))


def _torch_face(seed):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 3))


def _step(model, x):
    model.zero_grad()
    out = model(x)
    out.sum().backward()
    return out.detach().numpy(), [p.grad.numpy().copy() for p in model.parameters()]


def test_sequential_fuses_batch_norm_relu_with_the_same_results():
    x = ember.tensor(rng.standard_normal((5, 2, 9)).astype(np.float32))
    fused, separate = _torch_face(0), _torch_face(0)
    separate[2].register_forward_hook(lambda m, a, o: None)  # a hook: no fusion here
    seen = []
    for model in (fused, separate):
        _producers(model, 3, seen)
    for mode in ("train", "eval"):
        for model in (fused, separate):
            getattr(model, mode)()
        out_f, grads_f = _step(fused, x)
        out_s, grads_s = _step(separate, x)
        np.testing.assert_array_equal(out_f, out_s)
        for a, e in zip(grads_f, grads_s):
            assert_close(a, e, rtol=1e-6, atol=1e-7)
    assert seen[0] == "BatchNormBackward" and seen[1] != "BatchNormBackward"
    np.testing.assert_array_equal(fused[1].running_mean.numpy(), separate[1].running_mean.numpy())
    np.testing.assert_array_equal(fused[1].running_var.numpy(), separate[1].running_var.numpy())


def test_sequential_fusion_never_hides_a_hooked_batch_norm_output():
    model = _torch_face(1)
    seen = []
    model[1].register_forward_hook(lambda m, a, o: seen.append(o.detach().numpy().copy()))
    model(ember.tensor(rng.standard_normal((4, 2, 9)).astype(np.float32)))
    assert (seen[0] < 0).any()  # the normalization's own output, before the ReLU


def _keras_model(relu_layer, data_format="channels_last"):
    axis = -1 if data_format == "channels_last" else 1
    shape = (9, 2) if data_format == "channels_last" else (2, 9)
    model = keras.Sequential([
        layers.Input(shape),
        layers.Conv1D(4, 3, padding="same", data_format=data_format),
        layers.BatchNormalization(axis=axis, gamma_initializer="random_normal",
                                  beta_initializer="random_normal"),
        relu_layer,
        layers.GlobalAveragePooling1D(data_format=data_format),
        layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("relu_layer", [lambda: layers.ReLU(), lambda: layers.Activation("relu")],
                         ids=["ReLU", "Activation"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_keras_sequential_fuses_batch_normalization_relu_with_the_same_results(relu_layer,
                                                                               data_format):
    ember.manual_seed(3)
    fused = _keras_model(relu_layer(), data_format)
    separate = _keras_model(relu_layer(), data_format)
    separate.set_weights(fused.get_weights())
    separate.layers[2].register_forward_hook(lambda m, a, o: None)  # a hook: no fusion here
    calls = []
    bn = fused.layers[1]
    original = bn.call_fused_relu
    bn.call_fused_relu = lambda *a, **k: calls.append(1) or original(*a, **k)
    shape = (6,) + fused.input_shape[1:]
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal((6, 3)).astype(np.float32)
    for _ in range(2):
        loss_f, loss_s = fused.train_on_batch(x, y), separate.train_on_batch(x, y)
        assert_close(loss_f, loss_s, rtol=1e-6, atol=1e-7)
    for a, e in zip(fused.get_weights(), separate.get_weights()):  # moving statistics too
        assert_close(a, e, rtol=1e-6, atol=1e-7)
    assert_close(fused.predict_on_batch(x), separate.predict_on_batch(x), rtol=1e-6, atol=1e-7)
    assert len(calls) == 3  # two training steps and one prediction


def test_keras_fuses_only_a_plain_relu():
    model = _keras_model(layers.ReLU(max_value=0.5))
    model.layers[1].call_fused_relu = None  # would raise if Sequential tried to fuse
    x = rng.standard_normal((4, 9, 2)).astype(np.float32)
    assert model.predict_on_batch(x).shape == (4, 3)
    assert model.train_on_batch(x, np.zeros((4, 3), np.float32)) >= 0
