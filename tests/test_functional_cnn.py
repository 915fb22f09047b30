"""ember.nn.functional CNN ops (conv, pooling, normalization, pad, channel dropout): float64
gradcheck of every input and parameter, PyTorch parity of forwards, gradients, running
statistics and max-pool indices, the channels_last layout, and errors."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

pytestmark = pytest.mark.filterwarnings(
    "ignore:Using padding='same' with even kernel lengths:UserWarning")  # PyTorch's own warning
rng = np.random.default_rng(31)


def distinct(*shape):
    """No ties (unique argmax) and values well apart compared with the gradcheck step."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.05 - 1.0


def normal(*shape):
    return rng.standard_normal(shape)


# name -> (call(fn, *tensors) for fn = ember's or torch's functional module, [(array, grad)])
# Every case here exists in PyTorch with the same arguments.
def cases():
    x = normal(2, 4, 5, 6)
    c = {
        "conv2d": (lambda fn, a, w, b: fn.conv2d(a, w, b), [(x, True), (normal(3, 4, 3, 3), True), (normal(3), True)]),
        "conv2d_no_bias_stride_pad": (lambda fn, a, w: fn.conv2d(a, w, None, stride=2, padding=1),
                                      [(x, True), (normal(3, 4, 3, 2), True)]),
        "conv2d_tuples": (lambda fn, a, w, b: fn.conv2d(a, w, b, stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
                          [(x, True), (normal(2, 4, 2, 3), True), (normal(2), True)]),
        "conv2d_valid": (lambda fn, a, w, b: fn.conv2d(a, w, b, padding="valid"),
                         [(x, True), (normal(2, 4, 2, 4), True), (normal(2), True)]),
        "conv2d_same_odd": (lambda fn, a, w, b: fn.conv2d(a, w, b, padding="same"),
                            [(x, True), (normal(2, 4, 3, 3), True), (normal(2), True)]),
        "conv2d_same_even_dilated": (lambda fn, a, w, b: fn.conv2d(a, w, b, padding="same", dilation=(1, 2)),
                                     [(x, True), (normal(2, 4, 4, 2), True), (normal(2), True)]),
        "conv2d_groups": (lambda fn, a, w, b: fn.conv2d(a, w, b, padding=1, groups=2),
                          [(x, True), (normal(6, 2, 3, 3), True), (normal(6), True)]),
        "conv2d_depthwise": (lambda fn, a, w, b: fn.conv2d(a, w, b, stride=2, padding=1, groups=4),
                             [(x, True), (normal(8, 1, 3, 3), True), (normal(8), True)]),
        "conv2d_batch1_1x1": (lambda fn, a, w, b: fn.conv2d(a, w, b),
                              [(normal(1, 3, 3, 5), True), (normal(4, 3, 1, 1), True), (normal(4), True)]),
        "conv2d_unbatched": (lambda fn, a, w, b: fn.conv2d(a, w, b, padding=1),
                             [(normal(2, 4, 3), True), (normal(3, 2, 3, 3), True), (normal(3), True)]),
        "conv1d": (lambda fn, a, w, b: fn.conv1d(a, w, b), [(normal(2, 3, 7), True), (normal(4, 3, 3), True), (normal(4), True)]),
        "conv1d_stride_pad_dilation": (lambda fn, a, w, b: fn.conv1d(a, w, b, stride=2, padding=2, dilation=2),
                                       [(normal(3, 2, 9), True), (normal(3, 2, 3), True), (normal(3), True)]),
        "conv1d_same_even_groups": (lambda fn, a, w, b: fn.conv1d(a, w, b, padding="same", groups=2),
                                    [(normal(2, 4, 6), True), (normal(4, 2, 4), True), (normal(4), True)]),
        "conv1d_valid_no_bias": (lambda fn, a, w: fn.conv1d(a, w, padding="valid"),
                                 [(normal(1, 2, 5), True), (normal(3, 2, 5), True)]),
        "max_pool2d": (lambda fn, a: fn.max_pool2d(a, 2), [(distinct(2, 3, 6, 5), True)]),
        "max_pool2d_pad_ceil": (lambda fn, a: fn.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
                                [(distinct(2, 2, 6, 7), True)]),
        "max_pool2d_dilation": (lambda fn, a: fn.max_pool2d(a, (2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 2)),
                                [(distinct(1, 2, 7, 8), True)]),
        "max_pool1d": (lambda fn, a: fn.max_pool1d(a, 3, stride=2, padding=1, ceil_mode=True),
                       [(distinct(2, 3, 8), True)]),
        "max_pool1d_dilation": (lambda fn, a: fn.max_pool1d(a, 2, dilation=3), [(distinct(2, 2, 9), True)]),
        "avg_pool2d": (lambda fn, a: fn.avg_pool2d(a, 2), [(normal(2, 3, 6, 5), True)]),
        "avg_pool2d_pad_ceil": (lambda fn, a: fn.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
                                [(normal(2, 2, 6, 7), True)]),
        "avg_pool2d_exclude_pad": (lambda fn, a: fn.avg_pool2d(a, (3, 2), stride=(2, 1), padding=(1, 1),
                                                               ceil_mode=True, count_include_pad=False),
                                   [(normal(1, 2, 6, 5), True)]),
        "avg_pool2d_divisor": (lambda fn, a: fn.avg_pool2d(a, 3, stride=2, padding=1, divisor_override=4),
                               [(normal(2, 2, 5, 5), True)]),
        "avg_pool1d": (lambda fn, a: fn.avg_pool1d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                       [(normal(2, 3, 8), True)]),
        "adaptive_avg_pool2d": (lambda fn, a: fn.adaptive_avg_pool2d(a, (3, 4)), [(normal(2, 2, 7, 5), True)]),
        "adaptive_avg_pool2d_none": (lambda fn, a: fn.adaptive_avg_pool2d(a, (None, 2)), [(normal(1, 2, 3, 5), True)]),
        "adaptive_avg_pool2d_global": (lambda fn, a: fn.adaptive_avg_pool2d(a, 1), [(normal(2, 3, 4, 3), True)]),
        "adaptive_avg_pool1d": (lambda fn, a: fn.adaptive_avg_pool1d(a, 4), [(normal(2, 3, 7), True)]),
        "adaptive_max_pool2d": (lambda fn, a: fn.adaptive_max_pool2d(a, (2, 3)), [(distinct(2, 2, 5, 7), True)]),
        "adaptive_max_pool2d_upsample": (lambda fn, a: fn.adaptive_max_pool2d(a, (4, 5)), [(distinct(1, 2, 3, 4), True)]),
        "adaptive_max_pool1d": (lambda fn, a: fn.adaptive_max_pool1d(a, 3), [(distinct(2, 2, 7), True)]),
        "batch_norm_train_affine": (lambda fn, a, w, b: fn.batch_norm(a, None, None, w, b, training=True),
                                    [(normal(3, 2, 3, 2) * 2 + 1, True), (normal(2), True), (normal(2), True)]),
        "batch_norm_train_plain_1d": (lambda fn, a: fn.batch_norm(a, None, None, training=True, eps=1e-3),
                                      [(normal(4, 3), True)]),
        "batch_norm_train_weight_only_3d": (lambda fn, a, w: fn.batch_norm(a, None, None, w, training=True),
                                            [(normal(2, 3, 4), True), (normal(3), True)]),
        "batch_norm_eval_affine": (lambda fn, a, m, v, w, b: fn.batch_norm(a, m, v, w, b, training=False),
                                   [(normal(2, 3, 3, 2), True), (normal(3), False), (rng.uniform(0.5, 2, 3), False),
                                    (normal(3), True), (normal(3), True)]),
        "batch_norm_eval_plain": (lambda fn, a, m, v: fn.batch_norm(a, m, v, training=False),
                                  [(normal(2, 3, 4), True), (normal(3), False), (rng.uniform(0.5, 2, 3), False)]),
        "layer_norm_affine": (lambda fn, a, w, b: fn.layer_norm(a, (3, 4), w, b),
                              [(normal(2, 3, 4), True), (normal(3, 4), True), (normal(3, 4), True)]),
        "layer_norm_plain": (lambda fn, a: fn.layer_norm(a, [5], eps=1e-3), [(normal(2, 3, 5), True)]),
        "layer_norm_weight_only": (lambda fn, a, w: fn.layer_norm(a, [4], w), [(normal(3, 4), True), (normal(4), True)]),
    }
    # unbatched inputs, and non-contiguous ones (the kernels must copy, never misread)
    c["max_pool2d_unbatched"] = (lambda fn, a: fn.max_pool2d(a, 2, padding=1), [(distinct(3, 5, 4), True)])
    c["avg_pool1d_unbatched"] = (lambda fn, a: fn.avg_pool1d(a, 2), [(normal(3, 5), True)])
    c["adaptive_avg_pool2d_unbatched"] = (lambda fn, a: fn.adaptive_avg_pool2d(a, 2), [(normal(2, 5, 3), True)])
    c["conv1d_unbatched"] = (lambda fn, a, w: fn.conv1d(a, w, padding=1), [(normal(2, 5), True), (normal(3, 2, 2), True)])
    c["conv2d_permuted"] = (lambda fn, a, w, b: fn.conv2d(a.permute(0, 3, 1, 2), w.transpose(2, 3), b, padding=1),
                            [(normal(2, 5, 4, 3), True), (normal(2, 3, 2, 3), True), (normal(2), True)])
    c["max_pool2d_transposed"] = (lambda fn, a: fn.max_pool2d(a.transpose(2, 3), 2), [(distinct(2, 2, 5, 4), True)])
    c["batch_norm_transposed"] = (lambda fn, a, w: fn.batch_norm(a.transpose(1, 2), None, None, w, training=True),
                                  [(normal(3, 4, 2), True), (normal(2), True)])
    c["layer_norm_transposed"] = (lambda fn, a: fn.layer_norm(a.transpose(0, 1), [3]), [(normal(3, 4), True)])
    for mode in ("constant", "reflect", "replicate", "circular"):
        c[f"pad_{mode}_2d"] = (lambda fn, a, m=mode: fn.pad(a, (1, 2, 2, 0), mode=m), [(normal(2, 2, 3, 4), True)])
        c[f"pad_{mode}_1d"] = (lambda fn, a, m=mode: fn.pad(a, (2, 1), mode=m), [(normal(2, 3, 4), True)])
    c["pad_constant_value"] = (lambda fn, a: fn.pad(a, (1, 1), value=2.5), [(normal(2, 3), True)])
    c["pad_constant_negative"] = (lambda fn, a: fn.pad(a, (-1, 2, 1, -2)), [(normal(2, 4, 5), True)])
    c["pad_constant_3_dims"] = (lambda fn, a: fn.pad(a, (1, 0, 0, 1, 1, 1)), [(normal(2, 2, 2), True)])
    return c


CASES = cases()


def _ember(spec):
    return [ember.tensor(a.copy(), dtype=ember.float64, requires_grad=g) for a, g in spec]


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    call, spec = CASES[name]
    assert gradcheck(lambda *a: call(F, *a), _ember(spec))


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    torch = pytest.importorskip("torch")
    call, spec = CASES[name]
    ours = _ember(spec)
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=g) for a, g in spec]
    out, ref = call(F, *ours), call(torch.nn.functional, *theirs)
    assert tuple(out.shape) == tuple(ref.shape), name
    assert_close(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12, msg=f"{name} forward")
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g, dtype=ember.float64))
    ref.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ours, theirs)):
        if t.requires_grad:
            assert e.grad is not None, f"{name}: input {i} got no gradient"
            assert_close(e.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11, msg=f"{name} grad {i}")


# ---------------------------------------------------------------- channels_last (ember only)

def nhwc(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


# name -> (call(x, *params, channels_last), NCHW input, [(param, grad)])
CL_CASES = {
    "conv2d": (lambda x, w, b, cl: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0, 2, 1), channels_last=cl),
               normal(2, 4, 5, 6), [(normal(3, 4, 3, 2), True), (normal(3), True)]),
    "conv2d_depthwise_dilated": (lambda x, w, b, cl: F.conv2d(x, w, b, padding="same", dilation=2, groups=4, channels_last=cl),
                                 normal(2, 4, 5, 5), [(normal(8, 1, 2, 3), True), (normal(8), True)]),
    "conv1d": (lambda x, w, b, cl: F.conv1d(x, w, b, stride=2, padding=(0, 1), channels_last=cl),
               normal(2, 3, 7), [(normal(4, 3, 3), True), (normal(4), True)]),
    "max_pool2d": (lambda x, cl: F.max_pool2d(x, 3, 2, padding=(0, 1, 1, 1), channels_last=cl),
                   distinct(2, 3, 6, 5), []),
    "max_pool1d": (lambda x, cl: F.max_pool1d(x, 2, ceil_mode=True, channels_last=cl), distinct(2, 3, 7), []),
    "avg_pool2d": (lambda x, cl: F.avg_pool2d(x, 2, 1, padding=1, count_include_pad=False, channels_last=cl),
                   normal(2, 3, 4, 5), []),
    "avg_pool1d": (lambda x, cl: F.avg_pool1d(x, 3, 2, padding=1, channels_last=cl), normal(2, 3, 7), []),
    "adaptive_avg_pool2d": (lambda x, cl: F.adaptive_avg_pool2d(x, (2, 3), channels_last=cl), normal(2, 3, 5, 7), []),
    "adaptive_max_pool1d": (lambda x, cl: F.adaptive_max_pool1d(x, 3, channels_last=cl), distinct(2, 3, 7), []),
    "batch_norm_train": (lambda x, w, b, cl: F.batch_norm(x, None, None, w, b, training=True, channels_last=cl),
                         normal(3, 2, 3, 2), [(normal(2), True), (normal(2), True)]),
    "batch_norm_eval": (lambda x, m, v, cl: F.batch_norm(x, m, v, training=False, channels_last=cl),
                        normal(2, 3, 4), [(normal(3), False), (rng.uniform(0.5, 2, 3), False)]),
}


@pytest.mark.parametrize("name", CL_CASES)
def test_channels_last_gradcheck(name):
    call, x, params = CL_CASES[name]
    inputs = _ember([(nhwc(x), True)] + params)
    assert gradcheck(lambda *a: call(*a, True), inputs)


@pytest.mark.parametrize("name", CL_CASES)
def test_channels_last_equals_nchw_on_transposed_data(name):
    call, x, params = CL_CASES[name]
    nchw_in, cl_in = _ember([(x, True)] + params), _ember([(nhwc(x), True)] + params)
    out, out_cl = call(*nchw_in, False), call(*cl_in, True)
    assert_close(out_cl, nhwc(out.detach().numpy()), rtol=1e-13, atol=1e-13)
    g = normal(*out.shape)
    out.backward(ember.tensor(g))
    out_cl.backward(ember.tensor(nhwc(g)))
    assert_close(cl_in[0].grad, nhwc(nchw_in[0].grad.numpy()), rtol=1e-13, atol=1e-13)
    for a, b in zip(nchw_in[1:], cl_in[1:]):
        if a.requires_grad:
            assert_close(b.grad, a.grad, rtol=1e-13, atol=1e-13)


def test_explicit_asymmetric_padding_equals_pad_then_conv():
    # (top, bottom, left, right): what Keras "same" with strides needs; no PyTorch equivalent.
    x = ember.tensor(normal(2, 3, 6, 7), requires_grad=True)
    w, b = ember.tensor(normal(4, 3, 3, 3)), ember.tensor(normal(4))
    out = F.conv2d(x, w, b, stride=2, padding=(0, 1, 1, 2))
    assert_close(out, F.conv2d(F.pad(x, (1, 2, 0, 1)), w, b, stride=2), rtol=1e-13, atol=1e-13)
    assert gradcheck(lambda a, w_, b_: F.conv2d(a, w_, b_, stride=2, padding=(0, 1, 1, 2)),
                     [ember.tensor(normal(1, 2, 4, 5), requires_grad=True),
                      ember.tensor(normal(3, 2, 3, 3), requires_grad=True),
                      ember.tensor(normal(3), requires_grad=True)])
    y = F.max_pool2d(x, 2, padding=(0, 1, 1, 0))
    assert y.shape == (2, 3, 3, 4)
    assert_close(y, F.max_pool2d(F.pad(x, (1, 0, 0, 1), value=-np.inf), 2))


# ---------------------------------------------------------------- PyTorch: statistics, indices

@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0, 0.0])
@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_running_statistics_match_pytorch(momentum, shape):
    torch = pytest.importorskip("torch")
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        x = normal(*shape) * 2 + 0.5
        F.batch_norm(ember.tensor(x), rm, rv, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
    assert_close(rm, trm.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(rv, trv.numpy(), rtol=1e-12, atol=1e-12)  # unbiased batch variance


def test_batch_norm_running_statistics_float32_channels_last():
    torch = pytest.importorskip("torch")
    x = normal(4, 5, 5, 3).astype(np.float32)
    rm, rv = ember.zeros(3), ember.ones(3)
    F.batch_norm(ember.tensor(x), rm, rv, training=True, channels_last=True)
    trm, trv = torch.zeros(3), torch.ones(3)
    torch.nn.functional.batch_norm(torch.tensor(np.moveaxis(x, -1, 1)), trm, trv, training=True)
    assert rm.dtype == ember.float32
    assert_close(rm, trm.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(rv, trv.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call", [
    lambda fn, x: fn.max_pool2d(x, 3, 2, padding=1, ceil_mode=True, return_indices=True),
    lambda fn, x: fn.max_pool2d(x, 2, 1, dilation=2, return_indices=True),
    lambda fn, x: fn.adaptive_max_pool2d(x, (3, 2), return_indices=True),
    lambda fn, x: fn.max_pool1d(x.flatten(2), 4, 3, padding=2, return_indices=True),
    lambda fn, x: fn.adaptive_max_pool1d(x.flatten(2), 5, return_indices=True),
])
def test_max_pool_indices_match_pytorch(call):
    torch = pytest.importorskip("torch")
    x = normal(2, 3, 7, 6)
    x[0, 0, :2, :2] = 1.5  # ties: both pick the first maximum
    (y, idx), (ty, tidx) = call(F, ember.tensor(x)), call(torch.nn.functional, torch.tensor(x))
    assert idx.dtype == ember.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_nan_propagates_like_pytorch():
    torch = pytest.importorskip("torch")
    x = normal(2, 2, 4, 4)
    x[1, 0, 2, 1] = np.nan
    w = normal(3, 2, 3, 3)
    for call in (lambda fn, a: fn.conv2d(a, fn_tensor(fn, w), padding=1),
                 lambda fn, a: fn.max_pool2d(a, 2),
                 lambda fn, a: fn.avg_pool2d(a, 3, 1, 1),
                 lambda fn, a: fn.adaptive_max_pool2d(a, 3),
                 lambda fn, a: fn.batch_norm(a, None, None, training=True)):
        ours = call(F, ember.tensor(x)).numpy()
        theirs = call(torch.nn.functional, torch.tensor(x)).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        assert np.isnan(ours).any()
        assert_close(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True)


def fn_tensor(fn, a):
    if fn is F:
        return ember.tensor(a)
    import torch
    return torch.tensor(a)


# ---------------------------------------------------------------- channel dropout

# Other ranks given to dropout2d/3d (PyTorch 2.13 warns and goes on): test_dropout_ranks.py
@pytest.mark.parametrize("op,shape,channels_last", [
    (F.dropout2d, (40, 30, 3, 4), False), (F.dropout2d, (40, 3, 4, 30), True),
    (F.dropout1d, (40, 30, 5), False), (F.dropout1d, (40, 5, 30), True)])
def test_channel_dropout_zeroes_whole_channels_and_scales(op, shape, channels_last):
    ember.manual_seed(3)
    x = ember.tensor(rng.uniform(1, 2, shape), requires_grad=True)
    y = op(x, p=0.4, training=True, channels_last=channels_last)
    ratio = y.detach().numpy() / x.detach().numpy()
    spatial_dims = 2 if op is F.dropout2d else 1
    batched = x.ndim == 2 + spatial_dims
    c_axis = x.ndim - 1 if channels_last else int(batched)
    keep_axes = ([0] if batched else []) + [c_axis]
    rows = np.moveaxis(ratio, keep_axes, list(range(len(keep_axes)))).reshape(
        int(np.prod([shape[a] for a in keep_axes])), -1)
    assert rows.shape[1] == int(np.prod(shape)) // rows.shape[0] > 1
    assert_close(rows, rows[:, :1].repeat(rows.shape[1], 1), rtol=1e-15, atol=0)  # whole channels
    assert set(np.round(np.unique(ratio), 12)) == {0.0, round(1 / 0.6, 12)}
    assert abs((ratio == 0).mean() - 0.4) < 0.06
    y.backward(ember.ones(*shape, dtype=ember.float64))
    assert_close(x.grad, ratio)  # gradient = mask * 1/(1-p)


def test_channel_dropout_eval_identity_p0_p1_and_errors():
    x = ember.tensor(normal(4, 3, 5, 5))
    assert F.dropout2d(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout1d(x[:, :, 0], 0.0).numpy(), x.numpy()[:, :, 0])
    np.testing.assert_array_equal(F.dropout2d(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).numpy(), np.zeros((4, 3, 5, 5)))
    with pytest.raises(ValueError, match="dropout2d: dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(x, 1.5)
    with pytest.raises(ember.ShapeError,
                       match=r"dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(x)


def test_channel_dropout_matches_pytorch_statistics():
    # Masks come from different generators; what must agree is the law: whole channels,
    # kept with probability 1-p and scaled by 1/(1-p).
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ember.manual_seed(0)
    x = np.ones((200, 50, 2, 2))
    ours = F.dropout2d(ember.tensor(x), 0.25).numpy()
    theirs = torch.nn.functional.dropout2d(torch.tensor(x), 0.25).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.75}
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.03


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call,exc,fragments", [
    (lambda: F.conv2d(ember.randn(1, 3, 2, 2), ember.randn(4, 3, 3, 3)), ember.ShapeError,
     ["conv2d", "larger than the padded input", "(1, 3, 2, 2)", "(4, 3, 3, 3)"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 2, 3, 3)), ember.ShapeError,
     ["conv2d", "3 channels", "(4, 2, 3, 3)", "(1, 3, 5, 5)"]),
    (lambda: F.conv2d(ember.randn(1, 4, 5, 5), ember.randn(4, 2, 3, 3), groups=3), ember.ShapeError,
     ["conv2d", "divisible by groups (3)"]),
    (lambda: F.conv2d(ember.randn(2, 3, 8, 8), ember.randn(4, 3, 3, 3), channels_last=True),
     ember.ShapeError, ["conv2d", "8 channels", "(2, 3, 8, 8)", "(N, H, W, C)"]),
    (lambda: F.conv1d(ember.randn(2, 3, 8), ember.randn(4, 3, 3), channels_last=True),
     ember.ShapeError, ["conv1d", "8 channels", "(2, 3, 8)", "(4, 3, 3)"]),
    (lambda: F.conv2d(ember.randn(5, 5), ember.randn(4, 3, 3, 3)), ember.ShapeError,
     ["conv2d: expected 3-D (unbatched) or 4-D (batched) input, got shape (5, 5)"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3)), ember.ShapeError,
     ["conv2d: expected a 4-D weight, got shape (4, 3, 3)"]),
    (lambda: F.conv1d(ember.randn(1, 2, 3, 5), ember.randn(4, 2, 3)), ember.ShapeError,
     ["conv1d", "(1, 2, 3, 5)"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), stride=0), ValueError,
     ["conv2d: stride must be positive"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), padding=-1), ValueError,
     ["conv2d: padding must be non-negative"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), padding="same", stride=2),
     ValueError, ["padding='same' is not supported for strided convolutions"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), padding="full"), ValueError,
     ["conv2d: padding must be 'valid', 'same', an int or a tuple", "'full'"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3), stride=(1, 2, 3)), ValueError,
     ["conv2d: stride must be an int or a tuple of 2 ints", "(1, 2, 3)"]),
    (lambda: F.conv2d(ember.randn(1, 3, 5, 5), ember.randn(4, 3, 3, 3, dtype=ember.float64)), TypeError,
     ["conv2d", "float64", "float32"]),
    (lambda: F.conv2d(ember.ones(1, 3, 5, 5, dtype=ember.int64), ember.randn(4, 3, 3, 3)), TypeError,
     ["conv2d", "int64", "(1, 3, 5, 5)"]),
    (lambda: F.max_pool2d(ember.randn(1, 1, 2, 2), 3), ember.ShapeError,
     ["max_pool2d", "larger than the padded input", "(1, 1, 2, 2)"]),
    (lambda: F.max_pool2d(ember.randn(1, 1, 6, 6), 2, padding=2), ValueError,
     ["max_pool2d", "at most half of the kernel size"]),
    (lambda: F.max_pool2d(ember.randn(1, 1, 9, 9), 3, padding=2, dilation=2), ValueError,
     ["max_pool2d", "at most half of the kernel size", "kernel (3, 3)"]),  # as PyTorch: undilated
    (lambda: F.avg_pool2d(ember.randn(1, 1, 6, 6), 3, stride=0), ValueError,
     ["avg_pool2d: stride must be positive", "(0, 0)"]),
    (lambda: F.max_pool2d(ember.randn(1, 1, 6, 6), 3, stride=(1, 0)), ValueError,
     ["max_pool2d: stride must be positive", "(1, 0)"]),
    (lambda: F.avg_pool2d(ember.randn(1, 1, 6, 6), 2, divisor_override=0), ValueError,
     ["avg_pool2d: divisor_override must be a positive integer, got 0"]),
    (lambda: F.max_pool1d(ember.randn(1, 2, 3, 6), 2), ember.ShapeError,
     ["max_pool1d: expected 2-D (unbatched) or 3-D (batched) input, got shape (1, 2, 3, 6)"]),
    (lambda: F.adaptive_avg_pool2d(ember.randn(6, 6), 2), ember.ShapeError,
     ["adaptive_avg_pool2d", "(6, 6)"]),
    (lambda: F.adaptive_max_pool2d(ember.randn(1, 2, 6, 6), (2, 2, 2)), ValueError,
     ["adaptive_max_pool2d: output_size must be an int or a tuple of 2"]),
    (lambda: F.batch_norm(ember.randn(1, 3), None, None, training=True), ValueError,
     ["batch_norm: Expected more than 1 value per channel when training", "[1, 3]"]),
    (lambda: F.batch_norm(ember.randn(4, 3, 2), ember.zeros(2), ember.ones(2)), ember.ShapeError,
     ["batch_norm: running_mean must have shape (3,), got (2,)"]),
    (lambda: F.batch_norm(ember.randn(4, 3, 2), None, None), ValueError,
     ["batch_norm: running_mean and running_var are required when not training"]),
    (lambda: F.batch_norm(ember.randn(4), None, None, training=True), ember.ShapeError,
     ["batch_norm: expected input of at least 2 dimensions", "(4,)"]),
    (lambda: F.layer_norm(ember.randn(2, 3, 4), (3,)), ember.ShapeError,
     ["layer_norm: normalized_shape [3] does not match", "(2, 3, 4)"]),
    (lambda: F.layer_norm(ember.randn(2, 4), (4,), ember.ones(3)), ember.ShapeError,
     ["layer_norm: weight must have shape (4,), got (3,)"]),
    (lambda: F.pad(ember.randn(2, 3), (1, 2, 3)), ValueError, ["pad: padding length must be even"]),
    (lambda: F.pad(ember.randn(2, 3), (3, 0), mode="reflect"), ValueError,
     ["pad: reflect padding (3, 0) is too large for input shape (2, 3) (at most 2 per side)"]),
    (lambda: F.pad(ember.randn(2, 3), (-1, 0), mode="replicate"), ValueError,
     ["replicate padding must be non-negative"]),
    (lambda: F.pad(ember.randn(2, 3), (-2, -2)), ValueError, ["pad", "negative size", "(2, 3)"]),
    (lambda: F.pad(ember.randn(2, 3), (1, 1), mode="zeros"), NotImplementedError, ["pad: mode 'zeros'"]),
])
def test_errors_name_op_and_shapes(call, exc, fragments):
    with pytest.raises(exc) as info:
        call()
    if exc is ValueError:  # bad values, not shapes
        assert not isinstance(info.value, ember.ShapeError)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_empty_batch_behaviour():
    torch = pytest.importorskip("torch")
    # conv and pooling: empty outputs like PyTorch, zero parameter gradients.
    x = ember.randn(0, 3, 5, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)
    assert y.shape == torch.nn.functional.max_pool2d(
        torch.nn.functional.conv2d(torch.zeros(0, 3, 5, 5), torch.zeros(4, 3, 3, 3), padding=1), 2).shape
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(w.grad.numpy(), 0)
    np.testing.assert_array_equal(b.grad.numpy(), 0)
    assert F.batch_norm(ember.randn(0, 3), ember.zeros(3), ember.ones(3)).shape == (0, 3)
    # In training mode an empty batch gives an empty output and leaves the running
    # statistics alone, as in PyTorch; a single value per channel is an error.
    running_mean, running_var = ember.zeros(3), ember.ones(3)
    assert F.batch_norm(ember.randn(0, 3, 4), running_mean, running_var,
                        training=True).shape == (0, 3, 4)
    assert running_mean.tolist() == [0, 0, 0] and running_var.tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(ember.randn(1, 3), running_mean, running_var, training=True)


def test_float32_functional_agrees_with_float64():
    x, w, bias = normal(4, 3, 9, 9), normal(5, 3, 3, 3), normal(5)
    def net(dtype):
        t = lambda a: ember.tensor(a, dtype=dtype, requires_grad=True)
        xs, ws, bs = t(x), t(w), t(bias)
        h = F.conv2d(xs, ws, bs, padding=1)
        h = F.batch_norm(h, None, None, training=True)
        h = F.max_pool2d(F.relu(h), 2)
        h = F.layer_norm(F.avg_pool2d(h, 2, padding=1), [3, 3])
        (h * h).sum().backward()
        return [h, xs.grad, ws.grad, bs.grad]
    for a32, a64 in zip(net(ember.float32), net(ember.float64)):
        assert a32.dtype == ember.float32
        assert_close(a32.detach(), a64.detach(), rtol=1e-3, atol=1e-3)
