"""Single-input-channel convolutions (the direct kernels of conv_direct.cpp: stride 1, no
dilation or groups) against the NumPy reference, in both layouts and dtypes, with and without
the fused ReLU, rows shorter and longer than the vector blocks, output channels that fill no
block evenly, padding, infinities next to the computed rows, and 1 vs 2 threads."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close
from test_conv_kernels import nhwc

rng = np.random.default_rng(8)

# (name, x shape NCHW with C = 1, c_out, kernel, pads (t, b, l, r))
DIRECT = [
    ("mnist_3x3", (3, 1, 28, 28), 32, (3, 3), (0, 0, 0, 0)),
    ("mnist_5x5", (2, 1, 28, 28), 10, (5, 5), (0, 0, 0, 0)),
    ("same_padding", (2, 1, 9, 11), 5, (3, 3), (1, 1, 1, 1)),
    ("wide_rows", (1, 1, 6, 75), 6, (2, 4), (0, 1, 2, 1)),
    ("narrow", (2, 1, 4, 4), 33, (3, 2), (0, 0, 0, 0)),
    ("one_d", (3, 1, 1, 40), 7, (1, 5), (0, 0, 2, 2)),
    ("column_kernel", (2, 1, 10, 3), 4, (4, 1), (2, 1, 0, 0)),
]


def windows(x, kernel, pads):
    """(n, oh, ow, kh, kw) windows of the zero-padded single-channel x."""
    xp = np.pad(x[:, 0], ((0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    return np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(1, 2))


def conv_reference(x, w, b, pads):
    out = np.einsum("nyxij,cij->ncyx", windows(x, w.shape[2:], pads), w[:, 0])
    return out if b is None else out + b[:, None, None]


def weight_grad_reference(g, x, kernel, pads):
    return np.einsum("ncyx,nyxij->cij", g, windows(x, kernel, pads))[:, None]


def run(x, w, b, pads, channels_last, relu):
    xs = nhwc(x) if channels_last else x
    y = _core.conv2d_forward(xs, w, b, (1, 1), pads, (1, 1), 1, channels_last, relu)
    return xs, (np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if channels_last else y)


@pytest.mark.parametrize("case", DIRECT, ids=lambda c: c[0])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("need_input", [True, False], ids=["with_input_grad", "params_only"])
def test_forward_and_weight_gradient_match_the_reference(case, channels_last, dtype, relu,
                                                         need_input):
    _, xs, c_out, kernel, pads = case
    x = rng.standard_normal(xs)
    w = rng.standard_normal((c_out, 1) + kernel)
    b = rng.standard_normal(c_out)
    want = conv_reference(x, w, b, pads)
    if relu:
        want = np.maximum(want, 0)
    # float32: sums over thousands of positions (the weight and bias gradients) round at ~1e-5.
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    x_in, y = run(x.astype(dtype), w.astype(dtype), b.astype(dtype), pads, channels_last, relu)
    assert y.dtype == dtype
    assert_close(y, want, **tol)
    g = rng.standard_normal(want.shape)
    masked = np.where(want > 0, g, 0) if relu else g
    y_saved = nhwc(y) if channels_last else y
    g_in = (nhwc(g) if channels_last else g).astype(dtype)
    gi, gw, gb = _core.conv2d_backward(g_in, x_in, w.astype(dtype), (1, 1), pads, (1, 1), 1,
                                       channels_last, need_input, True, True,
                                       y_saved if relu else None)
    assert_close(gw, weight_grad_reference(masked, x, kernel, pads), **tol)
    assert_close(gb, masked.sum((0, 2, 3)), **tol)
    assert gi.shape == x_in.shape if need_input else gi is None


@pytest.mark.parametrize("channels_last", [False, True])
def test_infinities_reach_only_the_outputs_and_gradients_they_touch(channels_last):
    x = rng.standard_normal((2, 1, 7, 21))
    x[0, 0, 3, 20] = np.inf  # the last column: its row's neighbours in memory see it first
    w, pads = rng.standard_normal((5, 1, 3, 3)), (0, 0, 0, 0)
    x_in, y = run(x, w, None, pads, channels_last, False)
    np.testing.assert_allclose(y, conv_reference(x, w, None, pads))
    g = rng.standard_normal(y.shape)
    _, gw, _ = _core.conv2d_backward(nhwc(g) if channels_last else g, x_in, w, (1, 1), pads,
                                     (1, 1), 1, channels_last, False, True, False)
    np.testing.assert_allclose(gw, weight_grad_reference(g, x, (3, 3), pads))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("need_input", [True, False], ids=["with_input_grad", "params_only"])
def test_identical_with_one_and_two_threads(restore_threads, channels_last, need_input):
    x = rng.standard_normal((9, 1, 28, 28)).astype(np.float32)
    w, b = rng.standard_normal((32, 1, 3, 3)).astype(np.float32), np.zeros(32, np.float32)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        x_in, y = run(x, w, b, (1, 1, 1, 1), channels_last, True)
        y_saved = nhwc(y) if channels_last else y
        results.append([y, *_core.conv2d_backward(y_saved, x_in, w, (1, 1), (1, 1, 1, 1), (1, 1),
                                                  1, channels_last, need_input, True, True,
                                                  y_saved)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
