"""ember.nn CNN modules (Conv, pooling, BatchNorm, LayerNorm, Dropout1d/2d, padding, Unflatten):
PyTorch parity of forward, input and parameter gradients on identical weights; state_dict names;
running statistics; reprs; constructor validation. The kernels' own gradchecks live elsewhere."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close

DTYPES = ["float32", "float64"]
# float32 sums of a few hundred products in a different order differ by a few ulps
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def _torch():
    return pytest.importorskip("torch")


def _numpy_state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _pair_of_modules(make, dtype):
    """The same module built with torch.nn and ember.nn, ember's loaded from torch's state."""
    torch = _torch()
    tm = make(torch.nn).to(getattr(torch, dtype))
    em = make(nn).to(getattr(ember, dtype))
    em.load_state_dict(_numpy_state(tm))
    return tm, em


def _check_parity(make, input_shape, dtype, seed=0, train=True, positive=False):
    """Forward output, input gradient and every parameter gradient equal torch's."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    tm, em = _pair_of_modules(make, dtype)
    tm.train(train)
    em.train(train)
    x = rng.standard_normal(input_shape).astype(dtype)
    if positive:
        x = np.abs(x) + 0.1
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    ty, ey = tm(tx), em(ex)
    assert ey.dtype == getattr(ember, dtype) and tuple(ey.shape) == tuple(ty.shape)
    assert_close(ey, ty.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    assert_close(ex.grad, tx.grad.numpy(), **TOL[dtype])
    t_params = dict(tm.named_parameters())
    e_params = dict(em.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        assert e_params[name].grad is not None, name
        assert_close(e_params[name].grad, tp.grad.numpy(), **TOL[dtype], msg=name)
    for (name, tb), (_, eb) in zip(tm.named_buffers(), em.named_buffers()):
        assert_close(eb, tb.numpy(), **TOL[dtype], msg=name)
    return tm, em


# ---- convolution -----------------------------------------------------------------------------
CONV2D = {
    "basic": ((3, 8, 3), {}, (2, 3, 9, 8)),
    "stride_pad_dilation": ((4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0),
                                                 dilation=(1, 2)), (2, 4, 11, 9)),
    "groups_no_bias": ((4, 6, 3), dict(groups=2, bias=False, stride=2), (3, 4, 8, 7)),
    "depthwise": ((4, 8, 3), dict(groups=4, padding=1), (2, 4, 7, 6)),
    "same_even_kernel": ((2, 3, (4, 3)), dict(padding="same", dilation=(1, 2)), (2, 2, 7, 8)),
    "valid": ((2, 3, 2), dict(padding="valid"), (1, 2, 5, 5)),
    "reflect": ((2, 3, 3), dict(padding=(1, 2), padding_mode="reflect"), (2, 2, 6, 7)),
    "replicate": ((2, 3, 3), dict(padding=2, padding_mode="replicate", stride=2), (2, 2, 6, 7)),
    "circular": ((2, 4, 3), dict(padding=(2, 1), padding_mode="circular", groups=2),
                 (2, 2, 6, 7)),
    "same_reflect": ((2, 3, 4), dict(padding="same", padding_mode="reflect"), (1, 2, 6, 6)),
    "unbatched": ((3, 2, 3), dict(padding=1), (3, 5, 6)),
}

CONV1D = {
    "basic": ((3, 5, 3), {}, (2, 3, 10)),
    "stride_pad_dilation": ((2, 4, 3), dict(stride=2, padding=2, dilation=2), (3, 2, 13)),
    "groups_no_bias": ((4, 6, 2), dict(groups=2, bias=False), (2, 4, 9)),
    "depthwise": ((3, 3, 5), dict(groups=3, padding=2), (2, 3, 8)),
    "same_even_kernel": ((2, 3, 4), dict(padding="same"), (2, 2, 9)),
    "reflect": ((2, 3, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 7)),
    "replicate": ((2, 3, 3), dict(padding=1, padding_mode="replicate"), (2, 2, 7)),
    "circular": ((2, 3, 3), dict(padding=1, padding_mode="circular", stride=2), (2, 2, 7)),
    "unbatched": ((2, 3, 3), {}, (2, 7)),
}


# torch (not ember) warns once that "same" with an even kernel makes a padded copy
TORCH_SAME_WARNING = "ignore:Using padding='same' with even kernel:UserWarning"


@pytest.mark.filterwarnings(TORCH_SAME_WARNING)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CONV2D))
def test_conv2d_matches_torch(case, dtype):
    args, kwargs, shape = CONV2D[case]
    _check_parity(lambda m: m.Conv2d(*args, **kwargs), shape, dtype)


@pytest.mark.filterwarnings(TORCH_SAME_WARNING)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CONV1D))
def test_conv1d_matches_torch(case, dtype):
    args, kwargs, shape = CONV1D[case]
    _check_parity(lambda m: m.Conv1d(*args, **kwargs), shape, dtype)


def test_conv_weight_layout_and_default_init():
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert tuple(conv.weight.shape) == (8, 3, 3, 5) and tuple(conv.bias.shape) == (8,)
    assert conv.weight.dtype == ember.float32 and conv.weight.requires_grad
    # kaiming_uniform_(a=sqrt(5)) and the bias both give U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bound = 1 / math.sqrt(3 * 3 * 5)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and np.unique(w).size == w.size
    assert abs(w.mean()) < 0.2 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    c1 = nn.Conv1d(2, 3, 4, bias=False, dtype=ember.float64)
    assert tuple(c1.weight.shape) == (3, 2, 4) and c1.weight.dtype == ember.float64
    assert c1.bias is None and list(c1.state_dict()) == ["weight"]
    ember.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).weight.detach().numpy().copy()
    ember.manual_seed(3)
    assert np.array_equal(a, nn.Conv2d(2, 3, 3).weight.detach().numpy())


def test_conv_stores_arguments_like_torch():
    conv = nn.Conv2d(2, 4, 3, stride=[2, 1], padding=1)
    assert conv.kernel_size == (3, 3) and conv.stride == (2, 1) and conv.padding == (1, 1)
    assert conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros"
    assert conv.in_channels == 2 and conv.out_channels == 4
    assert nn.Conv1d(2, 4, 3, padding="same").padding == "same"
    assert nn.Conv1d(2, 4, 3).kernel_size == (3,)


# ---- pooling ---------------------------------------------------------------------------------
POOL = {
    "max2d": (lambda m: m.MaxPool2d(2), (2, 3, 8, 7)),
    "max2d_stride_pad_ceil": (lambda m: m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                              (2, 2, 8, 9)),
    "max2d_dilation": (lambda m: m.MaxPool2d((2, 3), stride=(1, 2), dilation=(2, 1)),
                       (1, 2, 7, 9)),
    "max2d_unbatched": (lambda m: m.MaxPool2d(2, 1), (3, 5, 5)),
    "max1d": (lambda m: m.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 10)),
    "max1d_dilation": (lambda m: m.MaxPool1d(2, dilation=3), (2, 3, 11)),
    "avg2d": (lambda m: m.AvgPool2d(2), (2, 3, 8, 6)),
    "avg2d_no_pad_count": (lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
                           (2, 2, 7, 8)),
    "avg2d_ceil": (lambda m: m.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 2, 8, 8)),
    "avg2d_ceil_no_pad_count": (lambda m: m.AvgPool2d((3, 2), (2, 2), (1, 1), ceil_mode=True,
                                                      count_include_pad=False), (1, 2, 8, 7)),
    "avg2d_divisor": (lambda m: m.AvgPool2d(2, divisor_override=3), (2, 2, 6, 6)),
    "avg1d": (lambda m: m.AvgPool1d(3, 2, 1), (2, 3, 9)),
    "avg1d_ceil_no_pad_count": (lambda m: m.AvgPool1d(3, 2, 1, ceil_mode=True,
                                                      count_include_pad=False), (2, 3, 10)),
    "adaptive_avg2d": (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive_avg2d_none": (lambda m: m.AdaptiveAvgPool2d((None, 3)), (2, 3, 4, 7)),
    "adaptive_avg2d_global": (lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    "adaptive_avg1d": (lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 10)),
    "adaptive_max2d": (lambda m: m.AdaptiveMaxPool2d((2, 3)), (2, 3, 7, 8)),
    "adaptive_max2d_none": (lambda m: m.AdaptiveMaxPool2d((3, None)), (2, 3, 7, 4)),
    "adaptive_max1d": (lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 8)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(POOL))
def test_pooling_matches_torch(case, dtype):
    make, shape = POOL[case]
    _check_parity(make, shape, dtype)


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.MaxPool2d(3, 2, 1, return_indices=True), (2, 3, 7, 8)),
    (lambda m: m.MaxPool1d(2, return_indices=True), (2, 3, 9)),
    (lambda m: m.AdaptiveMaxPool2d((3, 2), return_indices=True), (2, 3, 7, 5)),
    (lambda m: m.AdaptiveMaxPool1d(4, True), (2, 3, 9)),
])
def test_max_pooling_return_indices_match_torch(make, shape):
    torch = _torch()
    x = np.random.default_rng(1).standard_normal(shape)
    t_out, t_idx = make(torch.nn)(torch.tensor(x))
    e_out, e_idx = make(nn)(ember.tensor(x))
    assert_close(e_out, t_out.numpy())
    assert e_idx.dtype == ember.int64
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


def test_pooling_stores_arguments_like_torch():
    mp = nn.MaxPool2d(3)
    assert (mp.kernel_size, mp.stride, mp.padding, mp.dilation) == (3, 3, 0, 1)
    assert nn.MaxPool2d((2, 3), (1, 2)).stride == (1, 2)
    ap = nn.AvgPool1d(3)
    assert (ap.kernel_size, ap.stride, ap.padding) == ((3,), (3,), (0,))
    assert nn.AvgPool2d(2).stride == 2 and nn.AvgPool2d(2).divisor_override is None


# ---- padding ---------------------------------------------------------------------------------
PAD = {
    "zero2d": (lambda m: m.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "zero1d": (lambda m: m.ZeroPad1d(2), (2, 3, 4)),
    "constant1d": (lambda m: m.ConstantPad1d((2, 1), 3.5), (2, 3, 4)),
    "constant2d": (lambda m: m.ConstantPad2d(1, -1.5), (2, 3, 4, 5)),
    "reflect1d": (lambda m: m.ReflectionPad1d((2, 3)), (2, 3, 5)),
    "reflect2d": (lambda m: m.ReflectionPad2d((1, 2, 3, 1)), (2, 3, 4, 5)),
    "replicate1d": (lambda m: m.ReplicationPad1d(3), (2, 3, 4)),
    "replicate2d": (lambda m: m.ReplicationPad2d((0, 2, 3, 1)), (2, 3, 4, 5)),
    "circular1d": (lambda m: m.CircularPad1d((1, 2)), (2, 3, 4)),
    "circular2d": (lambda m: m.CircularPad2d(1), (2, 3, 4, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(PAD))
def test_padding_modules_match_torch(case, dtype):
    make, shape = PAD[case]
    _check_parity(make, shape, dtype)


# ---- normalization ---------------------------------------------------------------------------
BATCHNORM = {
    "bn2d": (lambda m: m.BatchNorm2d(3), (4, 3, 5, 6)),
    "bn2d_no_affine": (lambda m: m.BatchNorm2d(3, affine=False), (4, 3, 5, 6)),
    "bn2d_no_bias": (lambda m: m.BatchNorm2d(3, bias=False), (4, 3, 5, 6)),
    "bn2d_cumulative": (lambda m: m.BatchNorm2d(3, momentum=None, eps=1e-3), (4, 3, 2, 3)),
    "bn2d_untracked": (lambda m: m.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 2)),
    "bn1d_nc": (lambda m: m.BatchNorm1d(5), (8, 5)),
    "bn1d_ncl": (lambda m: m.BatchNorm1d(4, momentum=0.3), (3, 4, 6)),
    "bn1d_untracked": (lambda m: m.BatchNorm1d(4, track_running_stats=False), (6, 4)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", sorted(BATCHNORM))
def test_batchnorm_matches_torch(case, train, dtype):
    make, shape = BATCHNORM[case]
    torch = _torch()

    def make_random(m):
        module = make(m)
        if m is not nn:  # non-trivial parameters and running statistics, loaded into ember's
            torch.manual_seed(0)
            with torch.no_grad():
                for p in module.parameters():
                    p.uniform_(0.5, 1.5)
                if module.running_mean is not None:
                    module.running_mean.uniform_(-1, 1)
                    module.running_var.uniform_(0.5, 2)
                    module.num_batches_tracked.fill_(4)
        return module

    _check_parity(make_random, shape, dtype, train=train)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_statistics_follow_torch(momentum):
    torch = _torch()
    tm, em = _pair_of_modules(lambda m: m.BatchNorm2d(3, momentum=momentum), "float32")
    rng = np.random.default_rng(5)
    for step in range(4):
        x = (rng.standard_normal((6, 3, 4, 4)) * (step + 1) + step).astype(np.float32)
        tm(torch.tensor(x))
        em(ember.tensor(x))
    assert int(em.num_batches_tracked.item()) == 4 == int(tm.num_batches_tracked)
    assert em.num_batches_tracked.dtype == ember.int64 and em.num_batches_tracked.dim() == 0
    assert_close(em.running_mean, tm.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(em.running_var, tm.running_var.numpy(), rtol=1e-5, atol=1e-6)
    # eval mode uses the running statistics and leaves them alone
    em.eval()
    tm.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    assert_close(em(ember.tensor(x)), tm(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert int(em.num_batches_tracked.item()) == 4


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == []
    x = np.random.default_rng(2).standard_normal((10, 3)) * 4 + 7
    y = bn(ember.tensor(x)).numpy()
    assert_close(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))


def test_batchnorm_buffers_and_dtype_conversion():
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert_close(bn.running_mean, np.zeros(4, np.float32))
    assert_close(bn.running_var, np.ones(4, np.float32))
    assert_close(bn.weight, np.ones(4, np.float32))
    assert_close(bn.bias, np.zeros(4, np.float32))
    bn.double()
    assert bn.running_mean.dtype == ember.float64 and bn.weight.dtype == ember.float64
    assert bn.num_batches_tracked.dtype == ember.int64
    bn(ember.randn(3, 4, 2, 2, dtype=ember.float64))
    assert bn.running_mean.dtype == ember.float64 and int(bn.num_batches_tracked.item()) == 1
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked.item()) == 0 and bn.running_var.numpy().tolist() == [1] * 4


def test_batchnorm_loads_a_checkpoint_without_num_batches_tracked():
    # like PyTorch: older checkpoints have no num_batches_tracked, and still load strictly
    bn = nn.BatchNorm1d(2)
    state = {k: v.numpy() * 2 for k, v in nn.BatchNorm1d(2).state_dict().items()
             if k != "num_batches_tracked"}
    assert repr(bn.load_state_dict(state)) == "<All keys matched successfully>"
    assert_close(bn.running_var, np.full(2, 2.0, np.float32))


@pytest.mark.parametrize("module,shape,message", [
    (lambda: nn.BatchNorm1d(3), (2, 3, 4, 5), "expected 2D or 3D input (got 4D input)"),
    (lambda: nn.BatchNorm1d(3), (3,), "expected 2D or 3D input (got 1D input)"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), "expected 4D input (got 3D input)"),
])
def test_batchnorm_rejects_wrong_ndim(module, shape, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        module()(ember.zeros(*shape))


LAYERNORM = {
    "last_dim": (lambda m: m.LayerNorm(6), (3, 4, 6)),
    "two_dims": (lambda m: m.LayerNorm([4, 5], eps=1e-3), (2, 3, 4, 5)),
    "no_affine": (lambda m: m.LayerNorm((3, 4), elementwise_affine=False), (2, 3, 4)),
    "no_bias": (lambda m: m.LayerNorm(5, bias=False), (4, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(LAYERNORM))
def test_layernorm_matches_torch(case, dtype):
    make, shape = LAYERNORM[case]
    torch = _torch()

    def make_random(m):
        module = make(m)
        if m is not nn:  # non-trivial weight and bias, copied into ember's by _check_parity
            torch.manual_seed(1)
            with torch.no_grad():
                for p in module.parameters():
                    p.normal_()
        return module

    _check_parity(make_random, shape, dtype)


# ---- dropout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Dropout2d(0.5), (8, 16, 3, 4)),
    (lambda: nn.Dropout2d(0.25), (4, 32, 2, 2)),
    (lambda: nn.Dropout1d(0.5), (8, 16, 5)),
    (lambda: nn.Dropout1d(0.4), (64, 5)),           # unbatched (C, L)
])
def test_channel_dropout_zeroes_whole_channels_and_scales(make, shape):
    ember.manual_seed(0)
    module = make()
    x = ember.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    y = module(x)
    ratio = y.detach().numpy() / x.detach().numpy()
    spatial = 2 if isinstance(module, nn.Dropout2d) else 1
    per_channel = ratio.reshape(-1, int(np.prod(shape[-spatial:])))
    # every channel is either all zero or all scaled by 1/(1-p)
    scale = 1 / (1 - module.p)
    assert np.all(np.isclose(per_channel, 0) | np.isclose(per_channel, scale))
    assert np.allclose(per_channel.min(1), per_channel.max(1))
    dropped = (per_channel[:, 0] == 0).mean()
    assert 0 < dropped < 1 and abs(dropped - module.p) < 0.25
    y.sum().backward()
    assert_close(x.grad, ratio)
    module.eval()
    assert_close(module(x), x)


def test_channel_dropout_extremes_and_validation():
    x = ember.ones(2, 3, 4, 4)
    assert_close(nn.Dropout2d(0.0)(x), x)
    assert_close(nn.Dropout2d(1.0)(x), np.zeros((2, 3, 4, 4), np.float32))
    for cls in (nn.Dropout1d, nn.Dropout2d):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, "
                                             "but got 1.5"):
            cls(1.5)


def test_dropout2d_matches_torch_statistics():
    # the masks come from different generators; the rule (per channel, scale 1/(1-p)) is shared
    torch = _torch()
    x = np.ones((4, 64, 2, 2), np.float32)
    t = torch.nn.Dropout2d(0.3)(torch.tensor(x)).numpy()
    e = nn.Dropout2d(0.3)(ember.tensor(x)).numpy()
    for out in (t, e):
        assert_close(np.unique(out), np.array([0, 1 / 0.7], np.float32))


# ---- Unflatten and Flatten -------------------------------------------------------------------
def test_unflatten_and_flatten_match_torch():
    torch = _torch()
    x = np.arange(2 * 12 * 5, dtype=np.float32).reshape(2, 12, 5)
    for make in (lambda m: m.Unflatten(1, (3, 4)), lambda m: m.Unflatten(-2, [2, -1]),
                 lambda m: m.Flatten(), lambda m: m.Flatten(0, 1)):
        t = make(torch.nn)(torch.tensor(x))
        e = make(nn)(ember.tensor(x))
        assert tuple(e.shape) == tuple(t.shape)
        assert_close(e, t.numpy())
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 12)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (3, 4.0))


# ---- whole models: state_dict names, loading torch weights ------------------------------------
def _net_class(nn_, F_):
    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn_.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn_.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn_.Dropout2d()
            self.fc1 = nn_.Linear(320, 50)
            self.fc2 = nn_.Linear(50, 10)

        def forward(self, x):
            x = F_.relu(F_.max_pool2d(self.conv1(x), 2))
            x = F_.relu(F_.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F_.relu(self.fc1(x))
            x = F_.dropout(x, training=self.training)
            x = self.fc2(x)
            return F_.log_softmax(x, dim=1)
    return Net


def test_pytorch_mnist_net_loads_torch_weights_and_matches():
    torch = _torch()
    t_net = _net_class(torch.nn, torch.nn.functional)().eval()
    e_net = _net_class(nn, F)().eval()
    assert list(e_net.state_dict()) == list(t_net.state_dict())
    assert [tuple(v.shape) for v in e_net.state_dict().values()] == \
        [tuple(v.shape) for v in t_net.state_dict().values()]
    assert repr(e_net.load_state_dict(_numpy_state(t_net))) == "<All keys matched successfully>"
    x = np.random.default_rng(3).standard_normal((3, 1, 28, 28)).astype(np.float32)
    assert_close(e_net(ember.tensor(x)), t_net(torch.tensor(x)).detach().numpy(),
                 rtol=1e-4, atol=1e-5)
    assert repr(e_net) == repr(t_net)


def _bn_model(m):
    return m.Sequential(m.Conv2d(2, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(),
                        m.MaxPool2d(2), m.Flatten(), m.Linear(4 * 3 * 3, 5),
                        m.BatchNorm1d(5, momentum=None))


def test_batchnorm_model_loads_torch_state_and_matches_in_eval():
    torch = _torch()
    t_model = _bn_model(torch.nn)
    rng = np.random.default_rng(4)
    with torch.no_grad():  # a few training passes so the running statistics are non-trivial
        for _ in range(3):
            t_model(torch.tensor(rng.standard_normal((8, 2, 6, 6)).astype(np.float32) * 2 + 1))
    e_model = _bn_model(nn)
    assert list(e_model.state_dict()) == list(t_model.state_dict())
    assert "1.num_batches_tracked" in e_model.state_dict()
    e_model.load_state_dict(_numpy_state(t_model))
    assert int(e_model[1].num_batches_tracked.item()) == 3
    assert e_model[1].num_batches_tracked.dtype == ember.int64
    t_model.eval()
    e_model.eval()
    x = rng.standard_normal((4, 2, 6, 6)).astype(np.float32)
    assert_close(e_model(ember.tensor(x)), t_model(torch.tensor(x)).detach().numpy(),
                 rtol=1e-4, atol=1e-5)
    assert repr(e_model) == repr(t_model)


def test_cnn_trains_like_torch_for_a_few_sgd_steps():
    torch = _torch()
    t_model = _bn_model(torch.nn).double()
    e_model = _bn_model(nn).double()
    e_model.load_state_dict(_numpy_state(t_model))
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.5)
    e_opt = ember.optim.SGD(e_model.parameters(), lr=0.1, momentum=0.5)
    rng = np.random.default_rng(6)
    for _ in range(3):
        x = rng.standard_normal((6, 2, 6, 6))
        y = rng.integers(0, 5, 6)
        for model, opt, lib, loss_fn in ((t_model, t_opt, torch, torch.nn.functional),
                                         (e_model, e_opt, ember, F)):
            opt.zero_grad()
            loss_fn.cross_entropy(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    for (name, tv), ev in zip(t_model.state_dict().items(), e_model.state_dict().values()):
        assert_close(ev, tv.numpy(), rtol=1e-9, atol=1e-11, msg=name)


# ---- reprs and constructor validation ----------------------------------------------------------
def _repr_cases(m):
    return [m.Conv2d(2, 4, 3, padding="same", padding_mode="reflect"),
            m.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2), dilation=(2, 1), groups=4,
                     bias=False),
            m.Conv1d(3, 6, 3, padding="valid"), m.Conv1d(3, 6, 4, padding_mode="circular"),
            m.MaxPool2d(2), m.MaxPool1d(3, 2, 1, ceil_mode=True), m.MaxPool2d((2, 3), (1, 1)),
            m.AvgPool1d(3), m.AvgPool2d((2, 3), 1, (1, 1), True, False, 3),
            m.AdaptiveMaxPool2d((None, 3), True), m.AdaptiveAvgPool1d(4),
            m.AdaptiveAvgPool2d(3), m.AdaptiveMaxPool1d(2),
            m.Dropout2d(), m.Dropout1d(0.2, True), m.Unflatten(1, (2, 3)),
            m.BatchNorm1d(3, momentum=None), m.BatchNorm2d(5, affine=False,
                                                           track_running_stats=False),
            m.BatchNorm2d(4, eps=1e-3, bias=False), m.LayerNorm([2, 3]),
            m.LayerNorm(4, elementwise_affine=False), m.LayerNorm(4, bias=False),
            m.ZeroPad2d(2), m.ZeroPad1d((1, 2)), m.ConstantPad1d((1, 2), 3.5),
            m.ConstantPad2d(1, -1.0), m.ReflectionPad1d(1), m.ReflectionPad2d((1, 2, 3, 0)),
            m.ReplicationPad1d(2), m.ReplicationPad2d(1), m.CircularPad1d(1),
            m.CircularPad2d(1)]


def test_reprs_and_state_dict_keys_equal_torch():
    torch = _torch()
    for ours, theirs in zip(_repr_cases(nn), _repr_cases(torch.nn)):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()), repr(ours)
        for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert tuple(v.shape) == tuple(tv.shape), k
            assert str(v.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], k


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv1d(2, 4, 3, padding="full"), "Invalid padding string 'full'"),
    (lambda: nn.Conv2d(2, 4, 3, padding_mode="mirror"), "padding_mode must be one of"),
    (lambda: nn.Conv2d(2, 4, (0, 3)), r"Conv2d: kernel_size must be .*kernel_size=\(0, 3\)"),
    (lambda: nn.Conv2d(2, 4, (3, 3, 3)), r"kernel_size=\(3, 3, 3\)"),
    (lambda: nn.Conv1d(2, 4, 3, stride=0), "Conv1d: stride must be .*stride=0"),
    (lambda: nn.Conv2d(2, 4, 3, padding=-1), "Conv2d: padding must be .*padding=-1"),
    (lambda: nn.Conv2d(2, 4, 3, dilation=(1, 0)), "dilation must be"),
    (lambda: nn.Conv2d(0, 4, 3), "Conv2d: in_channels must be .*in_channels=0"),
    (lambda: nn.Conv2d(2, 4.5, 3), "out_channels=4.5"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be"),
    (lambda: nn.MaxPool2d(2, stride=0), "MaxPool2d: stride must be"),
    (lambda: nn.MaxPool2d(2, padding=2), "pad should be at most half of effective kernel size"),
    (lambda: nn.MaxPool1d(2, padding=-1), "MaxPool1d: padding must be"),
    (lambda: nn.AvgPool2d(3, padding=2), "pad should be at most half"),
    (lambda: nn.AvgPool1d((2, 2)), "AvgPool1d: kernel_size must be"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), "AdaptiveAvgPool2d: output_size"),
    (lambda: nn.AdaptiveMaxPool1d((2, 2)), "AdaptiveMaxPool1d: output_size"),
    (lambda: nn.AdaptiveAvgPool1d(None), "AdaptiveAvgPool1d: output_size"),
    (lambda: nn.BatchNorm2d(0), "BatchNorm2d: num_features must be .*num_features=0"),
    (lambda: nn.BatchNorm1d(3, momentum=1.5), "BatchNorm1d: momentum .*momentum=1.5"),
    (lambda: nn.BatchNorm1d(3, eps=-1.0), "BatchNorm1d: eps"),
    (lambda: nn.LayerNorm(0), "LayerNorm: normalized_shape"),
    (lambda: nn.LayerNorm([]), "LayerNorm: normalized_shape"),
    (lambda: nn.LayerNorm(4, eps="small"), "LayerNorm: eps"),
    (lambda: nn.ZeroPad2d((1, 2, 3)), r"ZeroPad2d: padding .*padding=\(1, 2, 3\)"),
    (lambda: nn.ReflectionPad1d(1.5), "ReflectionPad1d: padding"),
    (lambda: nn.Dropout2d(-0.1), "dropout probability has to be between 0 and 1"),
])
def test_bad_hyper_parameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_modules_are_exported():
    import ember.nn.modules as modules
    names = ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
             "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
             "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout1d", "Dropout2d", "Unflatten",
             "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
             "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d"]
    for name in names:
        assert name in nn.__all__ and getattr(nn, name) is getattr(modules, name)


def test_forward_errors_name_the_op_and_shapes():
    with pytest.raises(ember.ShapeError, match=r"conv2d.*\(1, 2, 5, 5\)"):
        nn.Conv2d(3, 4, 3)(ember.zeros(1, 2, 5, 5))
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(ember.zeros(1, 3))
    assert_close(bn.eval()(ember.ones(1, 3)), np.full((1, 3), 1 / math.sqrt(1 + 1e-5)))


def test_1d_errors_name_the_1d_op_and_the_users_shapes():
    with pytest.raises(ember.ShapeError, match=r"conv1d.*\(1, 3, 5\)"):
        nn.Conv1d(3, 4, 7)(ember.zeros(1, 3, 5))
    with pytest.raises(ember.ShapeError, match=r"conv1d: input has 2 channels.*\(1, 2, 5\)"):
        nn.Conv1d(3, 4, 3)(ember.zeros(1, 2, 5))
    with pytest.raises(ember.ShapeError, match=r"max_pool1d.*\(1, 2, 3\)"):
        nn.MaxPool1d(5)(ember.zeros(1, 2, 3))
    with pytest.raises(ember.ShapeError, match=r"avg_pool1d.*\(1, 2, 3\)"):
        nn.AvgPool1d(5)(ember.zeros(1, 2, 3))
