"""A ReLU fused into the convolution (the kernel's `relu` epilogue and `relu_output` gradient
mask; F.conv1d/conv2d(fuse_relu=True); nn.Sequential fusing Conv*d + nn.ReLU; Keras Conv*D with
activation="relu"): the same values and gradients as the separate ReLU, NaN included."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _core
from ember.testing import assert_close, gradcheck
from test_conv_kernels import CASES, IDS, make, nhwc

rng = np.random.default_rng(5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_kernel_relu_equals_relu_of_the_convolution(case, channels_last):
    x, w, b, args = make(case)
    if channels_last:
        x = nhwc(x)
    plain = _core.conv2d_forward(x, w, b, *args, channels_last)
    fused = _core.conv2d_forward(x, w, b, *args, channels_last, True)
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    g = rng.standard_normal(plain.shape)
    masked = np.where(plain > 0, g, 0.0)
    want = _core.conv2d_backward(masked, x, w, *args, channels_last)
    got = _core.conv2d_backward(g, x, w, *args, channels_last, relu_output=fused)
    for a, e in zip(got, want):
        assert_close(a, e, rtol=1e-12, atol=1e-12)


def test_kernel_relu_keeps_nan_and_masks_its_gradient():
    x = rng.standard_normal((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    w = np.ones((1, 1, 2, 2))
    y = _core.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0), (1, 1), 1, False, True)
    assert np.isnan(y[0, 0, :2, :2]).all()  # every window touching the NaN, as torch.relu
    gi, gw, _ = _core.conv2d_backward(np.ones_like(y), x, w, (1, 1), (0, 0, 0, 0), (1, 1), 1,
                                      False, True, True, False, relu_output=y)
    # NaN outputs are not > 0: their gradient is masked, like torch's threshold_backward.
    assert not np.isnan(gi[0, 0, 3, 3]) and gi[0, 0, 0, 0] == 0


def test_kernel_rejects_a_relu_output_of_the_wrong_shape():
    x, w, b, args = make(CASES[0])
    y = _core.conv2d_forward(x, w, b, *args, False, True)
    with pytest.raises(_core.ShapeError, match=r"conv2d_backward: relu_output has shape "
                                               r"\(2, 4, 4, 2\), expected \(2, 4, 4, 3\)"):
        _core.conv2d_backward(y, x, w, *args, relu_output=y[..., :2])


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("rank", [1, 2])
def test_functional_fuse_relu_gradcheck_and_equality(rank, channels_last):
    shape = (2, 3, 7) if rank == 1 else (2, 3, 6, 5)
    if channels_last:
        shape = (shape[0], *shape[2:], shape[1])
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3) + (3,) * rank), requires_grad=True)
    b = ember.tensor(rng.standard_normal(4), requires_grad=True)
    conv = F.conv2d if rank == 2 else F.conv1d
    call = lambda a, w_, b_, fuse: conv(a, w_, b_, padding=1, channels_last=channels_last,
                                        fuse_relu=fuse)
    assert gradcheck(lambda *a: call(*a, True), (x, w, b))
    np.testing.assert_array_equal(call(x, w, b, True).detach().numpy(),
                                  F.relu(call(x, w, b, False)).detach().numpy())


def _net(seed):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 2 * 2, 3))


def _grads(model, x):
    model.zero_grad()
    out = model(x)
    out.sum().backward()
    return out.detach().numpy(), [p.grad.numpy().copy() for p in model.parameters()]


def test_sequential_fuses_conv_relu_with_the_same_results():
    x = ember.tensor(rng.standard_normal((3, 2, 6, 6)).astype(np.float32))
    fused = _net(0)
    separate = _net(0)
    separate[1].register_forward_hook(lambda m, a, o: None)  # a hook: no fusion here
    producers = []
    for model in (fused, separate):
        model[2].register_forward_pre_hook(lambda m, a: producers.append(a[0].grad_fn.name))
    out_f, grads_f = _grads(fused, x)
    out_s, grads_s = _grads(separate, x)
    assert producers[0] == "Conv2dBackward" and producers[1] != "Conv2dBackward"
    np.testing.assert_array_equal(out_f, out_s)
    for a, e in zip(grads_f, grads_s):
        assert_close(a, e, rtol=1e-12, atol=1e-12)


def test_sequential_fusion_never_hides_a_hooked_output():
    model = _net(1)
    seen = []
    model[0].register_forward_hook(lambda m, a, o: seen.append(o.detach().numpy().copy()))
    x = ember.tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32))
    model(x)
    assert (seen[0] < 0).any()  # the convolution's own output, before the ReLU


def test_sequential_keeps_a_subclass_forward():
    class Doubled(nn.Conv2d):
        def forward(self, input):
            return super().forward(input) * 2

    ember.manual_seed(0)
    model = nn.Sequential(Doubled(1, 2, 3), nn.ReLU())
    x = ember.tensor(rng.standard_normal((1, 1, 5, 5)).astype(np.float32))
    want = F.relu(F.conv2d(x, model[0].weight, model[0].bias) * 2)
    np.testing.assert_array_equal(model(x).detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("layer", ["Conv1D", "Conv2D"])
def test_keras_relu_activation_is_fused_and_equal(layer):
    from ember import keras
    shape = (2, 9, 3) if layer == "Conv1D" else (2, 7, 6, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    fused = getattr(keras.layers, layer)(5, 3, activation="relu", padding="same")
    plain = getattr(keras.layers, layer)(5, 3, padding="same")
    fused.build(shape)
    plain.build(shape)
    plain.set_weights(fused.get_weights())
    np.testing.assert_array_equal(fused(x).detach().numpy(),
                                  np.maximum(plain(x).detach().numpy(), 0))


class CallSpy:
    """Stands for _core in one ops module, recording the arguments of one kernel's calls."""

    def __init__(self, core, kernel):
        self.core, self.kernel, self.calls = core, kernel, []

    def __getattr__(self, name):
        fn = getattr(self.core, name)
        if name != self.kernel:
            return fn

        def recorded(*args, **kwargs):
            self.calls.append(args)
            return fn(*args, **kwargs)
        return recorded


def test_sequential_inference_without_a_graph_fuses_too(monkeypatch):
    # eval + no_grad takes the no-node path (Conv2d.infer): it must still run the ReLU in the
    # convolution's kernel, and give the graph path's values.
    import ember.ops.conv
    model = _net(2).eval()
    x = ember.tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32))
    with_graph = model(x).detach().numpy()
    spy = CallSpy(_core, "conv2d_forward")
    monkeypatch.setattr(ember.ops.conv, "_core", spy)
    with ember.no_grad():
        out = model(x)
    assert out.grad_fn is None and len(spy.calls) == 1
    assert spy.calls[0][8] is True  # relu, after (x, w, b, stride, padding, dilation, groups, nhwc)
    np.testing.assert_array_equal(out.numpy(), with_graph)
