"""The Winograd F(2x2, 3x3) path of ember._core's convolution kernels: 3x3 kernels, stride 1,
no dilation, one group, at least 16 input and output channels (conv_winograd.h), NHWC and NCHW
(which runs as NHWC between transposes). Checked against the direct-loop reference, finite
differences, the adjoint identity, PyTorch, and itself across thread counts."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian
from test_conv_kernels import conv2d_reference, nhwc

rng = np.random.default_rng(33)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# (name, x shape NCHW, c_out, pads (top, bottom, left, right)); the kernel is always 3x3.
# Odd output sizes leave half-used tiles at the bottom and right edges; pads up to 2 put whole
# window rows in the padding.
CASES = [
    ("even_valid", (2, 16, 6, 6), 16, (0, 0, 0, 0)),
    ("odd_valid", (3, 16, 7, 9), 20, (0, 0, 0, 0)),
    ("same", (2, 17, 5, 6), 16, (1, 1, 1, 1)),
    ("full", (1, 16, 4, 5), 18, (2, 2, 2, 2)),
    ("asymmetric", (2, 16, 5, 4), 16, (0, 1, 2, 1)),
    ("one_output_row", (2, 16, 3, 8), 16, (0, 0, 1, 0)),
    ("keras_cnn_conv2", (3, 32, 13, 13), 64, (0, 0, 0, 0)),
]
IDS = [c[0] for c in CASES]


def make(case, dtype=np.float64):
    _, xs, c_out, pads = case
    x, w = randn(*xs, dtype=dtype), randn(c_out, xs[1], 3, 3, dtype=dtype)
    b = randn(c_out, dtype=dtype)
    return x, w, b, ((1, 1), pads, (1, 1), 1)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_forward_matches_reference(case, dtype, channels_last):
    x, w, b, args = make(case, dtype)
    want = conv2d_reference(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), *args)
    if channels_last:
        out = _core.conv2d_forward(nhwc(x), w, b, *args, channels_last=True)
        want = nhwc(want)
    else:
        out = _core.conv2d_forward(x, w, b, *args)
    assert out.dtype == dtype and out.shape == want.shape
    # Sums of 9 c_in products of unit normals: float32 keeps 1e-5 of their scale.
    tol = 1e-5 * np.abs(want).max() if dtype == np.float32 else 1e-12 * np.abs(want).max()
    assert_close(out, want, rtol=0, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fused_relu_is_relu_of_the_output_and_masks_the_gradient(case):
    x, w, b, args = make(case)
    plain = _core.conv2d_forward(x, w, b, *args)
    fused = _core.conv2d_forward(x, w, b, *args, relu=True)
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    g = randn(*plain.shape)
    masked = _core.conv2d_backward(g * (fused > 0), x, w, *args)
    through = _core.conv2d_backward(g, x, w, *args, relu_output=fused)
    for one, other in zip(through, masked):
        np.testing.assert_array_equal(one, other)


def gradients_reference(x, w, g, pads):
    """Direct loops: the input, weight and bias gradients of sum(conv(x, w) * g), NCHW."""
    (n, c_in, h, wd), (pt, pb, pl, pr) = x.shape, pads
    xp = np.zeros((n, c_in, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    oh, ow = g.shape[2:]
    for i in range(3):
        for j in range(3):
            window = xp[:, :, i:i + oh, j:j + ow]
            gw[:, :, i, j] = np.einsum("noyx,ncyx->oc", g, window)
            gxp[:, :, i:i + oh, j:j + ow] += np.einsum("noyx,oc->ncyx", g, w[:, :, i, j])
    return gxp[:, :, pt:pt + h, pl:pl + wd], gw, g.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_backward_matches_reference(case, channels_last):
    x, w, b, args = make(case)
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    want = gradients_reference(x, w, g, args[1])
    if channels_last:
        gi, gw, gb = _core.conv2d_backward(nhwc(g), nhwc(x), w, *args, channels_last=True)
        gi = gi.transpose(0, 3, 1, 2)
    else:
        gi, gw, gb = _core.conv2d_backward(g, x, w, *args)
    for got, ref in zip((gi, gw, gb), want):
        assert got.shape == ref.shape and got.dtype == np.float64
        assert_close(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


# The convolution is linear in each argument: central differences have no truncation error,
# only rounding, which shrinks as the step grows, hence eps=1e-3. (Two forward calls per
# element: the smaller cases.)
@pytest.mark.parametrize("case", CASES[:-1], ids=IDS[:-1])
@pytest.mark.parametrize("channels_last", [False, True])
def test_backward_matches_finite_differences(case, channels_last):
    x, w, b, args = make(case)
    if channels_last:
        x = nhwc(x)
    kw = {"channels_last": channels_last}
    g = randn(*_core.conv2d_forward(x, w, b, *args, **kw).shape)
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args, **kw)
    project = lambda x_, w_, b_: float((_core.conv2d_forward(x_, w_, b_, *args, **kw) * g).sum())
    for got, k, arr in [(gi, 0, x), (gw, 1, w), (gb, 2, b)]:
        assert got.shape == arr.shape and got.dtype == np.float64
        assert_close(got, numerical_jacobian(project, [x, w, b], k, eps=1e-3).reshape(arr.shape),
                     rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_satisfies_the_adjoint_identity(case):
    x, w, b, args = make(case)
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args)
    dx, dw = randn(*x.shape), randn(*w.shape)
    zero = np.zeros_like(b)
    for got, direction, change in ((gi, dx, conv2d_reference(dx, w, zero, *args)),
                                   (gw, dw, conv2d_reference(x, dw, zero, *args))):
        want = float((change * g).sum())
        assert abs(float((got * direction).sum()) - want) <= 1e-12 * (1 + abs(want))
    assert_close(gb, g.sum(axis=(0, 2, 3)), rtol=1e-13, atol=1e-13)


def test_backward_computes_only_requested():
    x, w, b, args = make(CASES[1])
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    full = _core.conv2d_backward(g, x, w, *args)
    for need in ((True, False, False), (False, True, False), (False, False, True),
                 (True, False, True)):
        got = _core.conv2d_backward(g, x, w, *args, need_input=need[0], need_weight=need[1],
                                    need_bias=need[2])
        for wanted, one, reference in zip(need, got, full):
            if wanted:
                np.testing.assert_array_equal(one, reference)
            else:
                assert one is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_identical_with_one_and_two_threads(restore_threads, dtype, channels_last):
    # Tiles go to fixed batches and samples to fixed blocks (conv_winograd.cpp), whatever the
    # thread count: every result is bitwise the same. 37 samples of 36 tiles: uneven splits.
    x, w = randn(37, 24, 12, 11, dtype=dtype), randn(32, 24, 3, 3, dtype=dtype)
    b = randn(32, dtype=dtype)
    args = ((1, 1), (1, 1, 0, 1), (1, 1), 1)
    if channels_last:
        x = nhwc(x)
    kw = {"channels_last": channels_last}
    g = randn(*_core.conv2d_forward(x, w, b, *args, **kw).shape, dtype=dtype)
    results = []
    for threads in (1, 2, 1):
        _core.set_num_threads(threads)
        y = _core.conv2d_forward(x, w, b, *args, relu=True, **kw)
        results.append([y, *_core.conv2d_backward(g, x, w, *args, relu_output=y, **kw)])
    for run in results[1:]:
        for one, other in zip(results[0], run):
            np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize("shape", [(1, 32, 13, 13, 64), (1, 128, 16, 16, 128)])
def test_one_batch_of_tiles_is_identical_with_one_and_two_threads(restore_threads, shape):
    # Batch-1 inference: all tiles in one batch, whose 16 products go to the threads (each whole
    # on one), never to an Eigen product that splits itself by the thread count.
    n, c_in, h, w, c_out = shape
    x, wt, b = randn(n, h, w, c_in, dtype=np.float32), randn(c_out, c_in, 3, 3, dtype=np.float32), \
        randn(c_out, dtype=np.float32)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append(_core.conv2d_forward(x, wt, b, *args, channels_last=True, relu=True))
    np.testing.assert_array_equal(*results)


def test_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    x, w, b, args = make(CASES[-1], np.float32)
    pads = args[1]
    out = _core.conv2d_forward(x, w, b, *args)
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    want = torch.nn.functional.conv2d(xt, wt, bt, padding=(pads[0], pads[2]))
    want_np = want.detach().numpy()
    assert_close(out, want_np, rtol=1e-5, atol=1e-5 * float(np.abs(want_np).max()))
    g = randn(*out.shape, dtype=np.float32)
    want.backward(torch.tensor(g))
    for got, ref in zip(_core.conv2d_backward(g, x, w, *args), (xt.grad, wt.grad, bt.grad)):
        ref = ref.numpy()
        assert_close(got, ref, rtol=1e-5, atol=1e-5 * float(np.abs(ref).max()))


@pytest.mark.parametrize("pixel", [(0, 0), (1, 2), (2, 2), (3, 5), (7, 7)])
def test_nan_reaches_the_same_outputs_as_in_the_direct_convolution(pixel):
    # The transforms mix a tile's window, but F(2x2, 3x3)'s zero pattern keeps each output
    # depending on exactly its 3x3 inputs: a NaN spreads no further than im2col's.
    x, w = randn(2, 16, 8, 8), randn(16, 16, 3, 3)
    x[1, 3, pixel[0], pixel[1]] = np.nan
    args = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    out = _core.conv2d_forward(x, w, None, *args)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(conv2d_reference(x, w, None, *args)))
    assert np.isfinite(out[0]).all()



@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_transformed_filters_follow_weights_changed_in_place(case):
    """The transformed filters are cached per thread while the weights' bytes stay the same:
    weights changed in place (as an optimizer step or a NumPy view does: same address, same
    shape) must never give the old filters' results, forward or backward."""
    x, w, b, args = make(case)
    first = _core.conv2d_forward(x, w, b, *args)
    np.testing.assert_array_equal(_core.conv2d_forward(x, w, b, *args), first)
    w[-1, -1, -1, -1] += 1.0  # the last element only: a byte compare must read to the end
    changed = _core.conv2d_forward(x, w, b, *args)
    want = conv2d_reference(x, w, b, *args)
    assert_close(changed, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert not np.array_equal(changed, first)
    g = randn(*first.shape)
    w *= 2.0
    want = gradients_reference(x, w, g, args[1])
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args)
    assert_close(gi, want[0], rtol=0, atol=1e-12 * np.abs(want[0]).max())
