"""ember._core pooling kernels (max, average, adaptive; 1-D is height 1) against direct-loop
NumPy references, finite differences, the NHWC layout and each other."""
import math

import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(77)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def distinct(*shape, dtype=np.float64):
    """Values without ties, so the argmax is unique and max pooling is differentiable."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 - 1).astype(dtype)


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def out_size(size, k, s, before, after, d, ceil_mode):
    span = size + before + after - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + before:
        out -= 1
    return out


def window_reference(x, kernel, stride, pads, dilation, out, mode, count_include_pad=True,
                     divisor=0):
    """Direct loops; pads = (top, bottom, left, right). Returns (output, flat argmax) for max."""
    n, c, h, w = x.shape
    y = np.zeros((n, c) + out)
    idx = np.full((n, c) + out, -1, dtype=np.int64)
    for oy in range(out[0]):
        for ox in range(out[1]):
            y0, x0 = oy * stride[0] - pads[0], ox * stride[1] - pads[2]
            taps = [(y0 + i * dilation[0], x0 + j * dilation[1])
                    for i in range(kernel[0]) for j in range(kernel[1])]
            inside = [(a, b) for a, b in taps if 0 <= a < h and 0 <= b < w]
            if mode == "max":
                vals = np.stack([x[:, :, a, b] for a, b in inside], -1)
                k = vals.argmax(-1)
                y[:, :, oy, ox] = vals.max(-1)
                idx[:, :, oy, ox] = np.array([a * w + b for a, b in inside])[k]
            else:
                total = sum(x[:, :, a, b] for a, b in inside)
                y_end = min(y0 + kernel[0], h + pads[1])
                x_end = min(x0 + kernel[1], w + pads[3])
                padded = (y_end - y0) * (x_end - x0)
                d = divisor or (padded if count_include_pad else len(inside))
                y[:, :, oy, ox] = total / d
    return y, idx


def adaptive_reference(x, out, mode):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + out)
    idx = np.zeros((n, c) + out, dtype=np.int64)
    for oy in range(out[0]):
        ys = slice(oy * h // out[0], math.ceil((oy + 1) * h / out[0]))
        for ox in range(out[1]):
            xs = slice(ox * w // out[1], math.ceil((ox + 1) * w / out[1]))
            win = x[:, :, ys, xs]
            if mode == "max":
                flat = win.reshape(n, c, -1)
                k = flat.argmax(-1)
                y[:, :, oy, ox] = flat.max(-1)
                idx[:, :, oy, ox] = (ys.start + k // win.shape[3]) * w + xs.start + k % win.shape[3]
            else:
                y[:, :, oy, ox] = win.mean((2, 3))
    return y, idx


# (name, x shape, kernel, stride, pads (t, b, l, r), dilation, ceil_mode)
WINDOWS = [
    ("k2", (2, 3, 6, 6), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), False),
    ("k3s2_odd", (1, 2, 7, 5), (3, 3), (2, 2), (0, 0, 0, 0), (1, 1), False),
    ("ceil", (2, 2, 7, 6), (3, 2), (2, 2), (0, 0, 0, 0), (1, 1), True),
    ("ceil_padding", (1, 2, 6, 7), (3, 3), (2, 3), (1, 1, 1, 1), (1, 1), True),
    ("padding_overlap", (2, 1, 5, 5), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False),
    ("asymmetric_pads", (1, 2, 5, 6), (2, 3), (2, 2), (0, 1, 1, 0), (1, 1), False),
    ("rect_stride", (2, 2, 8, 5), (4, 2), (3, 1), (2, 0, 1, 1), (1, 1), False),
    ("one_d", (3, 2, 1, 9), (1, 3), (1, 2), (0, 0, 1, 1), (1, 1), True),
]
DILATED = [
    ("dilated", (2, 2, 9, 8), (3, 2), (2, 1), (1, 1, 1, 1), (2, 3), False),
    ("dilated_ceil", (1, 2, 8, 9), (2, 3), (2, 2), (1, 1, 0, 0), (3, 2), True),
]


def geometry(case):
    _, xs, kernel, stride, pads, dilation, ceil_mode = case
    layout_h, layout_w = xs[2], xs[3]
    out = (out_size(layout_h, kernel[0], stride[0], pads[0], pads[1], dilation[0], ceil_mode),
           out_size(layout_w, kernel[1], stride[1], pads[2], pads[3], dilation[1], ceil_mode))
    return xs, kernel, stride, pads, dilation, out


# ---------------------------------------------------------------- max pooling

@pytest.mark.parametrize("case", WINDOWS + DILATED, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_forward_and_indices_match_reference(case, dtype):
    xs, kernel, stride, pads, dilation, out = geometry(case)
    x = distinct(*xs, dtype=dtype)
    y, idx = _core.max_pool2d_forward(x, kernel, stride, pads, dilation, out)
    want, want_idx = window_reference(x.astype(np.float64), kernel, stride, pads, dilation, out,
                                      "max")
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, want.astype(dtype))
    np.testing.assert_array_equal(idx, want_idx)


@pytest.mark.parametrize("case", WINDOWS + DILATED, ids=lambda c: c[0])
def test_max_pool_backward_matches_finite_differences_and_channels_last(case):
    xs, kernel, stride, pads, dilation, out = geometry(case)
    x = distinct(*xs)
    y, idx = _core.max_pool2d_forward(x, kernel, stride, pads, dilation, out)
    g = randn(*y.shape)
    gi = _core.max_pool2d_backward(g, idx, x.shape)
    project = lambda x_: float((_core.max_pool2d_forward(x_, kernel, stride, pads, dilation,
                                                         out)[0] * g).sum())
    assert_close(gi, numerical_jacobian(project, [x], 0).reshape(x.shape), rtol=1e-7, atol=1e-8)
    y_cl, idx_cl = _core.max_pool2d_forward(nhwc(x), kernel, stride, pads, dilation, out,
                                            channels_last=True)
    np.testing.assert_array_equal(y_cl, nhwc(y))
    np.testing.assert_array_equal(idx_cl, nhwc(idx))  # flat y * W + x, as for NCHW
    np.testing.assert_array_equal(
        _core.max_pool2d_backward(nhwc(g), idx_cl, nhwc(x).shape, channels_last=True), nhwc(gi))


def test_max_pool_nan_wins_and_first_maximum_wins_ties():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, 1, 1] = np.nan
    y, idx = _core.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (1, 2))
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 5
    assert y[0, 0, 0, 1] == 0 and idx[0, 0, 0, 1] == 2  # ties: the first in row-major order
    gi = _core.max_pool2d_backward(np.ones_like(y), idx, x.shape)
    np.testing.assert_array_equal(gi, [[[[0, 0, 1, 0], [0, 1, 0, 0]]]])


def test_max_pool_backward_accumulates_overlapping_windows():
    x = np.array([[[[0.0, 1, 0, 0, 0]]]])  # the 1 is the max of two overlapping windows
    y, idx = _core.max_pool2d_forward(x, (1, 2), (1, 1), (0, 0, 0, 0), (1, 1), (1, 4))
    gi = _core.max_pool2d_backward(np.array([[[[1.0, 2, 4, 8]]]]), idx, x.shape)
    np.testing.assert_array_equal(gi, [[[[0, 3, 4, 8, 0]]]])  # the tie 0, 0 picks the first


# ---------------------------------------------------------------- average pooling

AVG_OPTIONS = [(True, 0), (False, 0), (True, 5), (False, 3)]  # (count_include_pad, divisor)


@pytest.mark.parametrize("case", WINDOWS, ids=lambda c: c[0])
@pytest.mark.parametrize("include_pad,divisor", AVG_OPTIONS)
def test_avg_pool_forward_backward_match_reference(case, include_pad, divisor):
    xs, kernel, stride, pads, _, out = geometry(case)
    x = randn(*xs)
    y = _core.avg_pool2d_forward(x, kernel, stride, pads, out, include_pad, divisor)
    want, _ = window_reference(x, kernel, stride, pads, (1, 1), out, "avg", include_pad, divisor)
    assert_close(y, want, rtol=1e-12, atol=1e-12)
    g = randn(*y.shape)
    gi = _core.avg_pool2d_backward(g, x.shape, kernel, stride, pads, include_pad, divisor)
    project = lambda x_: float((_core.avg_pool2d_forward(x_, kernel, stride, pads, out,
                                                         include_pad, divisor) * g).sum())
    assert_close(gi, numerical_jacobian(project, [x], 0).reshape(x.shape), rtol=1e-7, atol=1e-8)
    y_cl = _core.avg_pool2d_forward(nhwc(x), kernel, stride, pads, out, include_pad, divisor,
                                    channels_last=True)
    np.testing.assert_array_equal(y_cl, nhwc(y))  # same sums in the same order
    np.testing.assert_array_equal(
        _core.avg_pool2d_backward(nhwc(g), nhwc(x).shape, kernel, stride, pads, include_pad,
                                  divisor, channels_last=True), nhwc(gi))


# ---------------------------------------------------------------- adaptive pooling

ADAPTIVE = [((2, 3, 7, 5), (3, 2)), ((1, 2, 5, 5), (5, 5)), ((2, 1, 4, 9), (1, 1)),
            ((1, 2, 3, 4), (5, 7)), ((2, 2, 1, 10), (1, 4)),
            ((2, 11, 5, 7), (1, 1)), ((3, 17, 6, 6), (1, 1))]


@pytest.mark.parametrize("xs,out", ADAPTIVE, ids=str)
def test_adaptive_avg_pool_matches_reference(xs, out):
    x = randn(*xs)
    y = _core.adaptive_avg_pool2d_forward(x, out)
    assert_close(y, adaptive_reference(x, out, "avg")[0], rtol=1e-12, atol=1e-12)
    g = randn(*y.shape)
    gi = _core.adaptive_avg_pool2d_backward(g, x.shape)
    project = lambda x_: float((_core.adaptive_avg_pool2d_forward(x_, out) * g).sum())
    assert_close(gi, numerical_jacobian(project, [x], 0).reshape(x.shape), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(_core.adaptive_avg_pool2d_forward(nhwc(x), out, True), nhwc(y))
    np.testing.assert_array_equal(
        _core.adaptive_avg_pool2d_backward(nhwc(g), nhwc(x).shape, True), nhwc(gi))


@pytest.mark.parametrize("xs", [(2, 3, 4, 5), (3, 70, 1, 33), (1, 1, 9, 9), (2, 17, 6, 1)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_average_pooling_matches_the_mean_in_both_layouts(xs, dtype):
    """Output 1 x 1 runs as one reduction per channel (summed along the plane for NCHW, over rows
    of channels for NHWC: the two layouts agree to rounding, not bitwise)."""
    x = randn(*xs, dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    y = _core.adaptive_avg_pool2d_forward(x, (1, 1))
    assert y.dtype == dtype
    assert_close(y, x.astype(np.float64).mean((2, 3), keepdims=True), **tol)
    assert_close(_core.adaptive_avg_pool2d_forward(nhwc(x), (1, 1), True), nhwc(y), **tol)
    g = randn(*y.shape, dtype=dtype)
    gi = _core.adaptive_avg_pool2d_backward(g, x.shape)
    np.testing.assert_array_equal(gi, np.broadcast_to(g / dtype(xs[2] * xs[3]), xs))
    np.testing.assert_array_equal(_core.adaptive_avg_pool2d_backward(nhwc(g), nhwc(x).shape, True),
                                  nhwc(gi))


@pytest.mark.parametrize("channels_last", [False, True])
def test_global_average_pooling_identical_with_one_and_two_threads(restore_threads,
                                                                     channels_last):
    x = randn(16, 32, 12, 12, dtype=np.float32)
    x = nhwc(x) if channels_last else x
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y = _core.adaptive_avg_pool2d_forward(x, (1, 1), channels_last)
        results.append((y, _core.adaptive_avg_pool2d_backward(y, x.shape, channels_last)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("xs,out", ADAPTIVE, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_max_pool_matches_reference(xs, out, dtype):
    x = distinct(*xs, dtype=dtype)
    y, idx = _core.adaptive_max_pool2d_forward(x, out)
    want, want_idx = adaptive_reference(x.astype(np.float64), out, "max")
    np.testing.assert_array_equal(y, want.astype(dtype))
    np.testing.assert_array_equal(idx, want_idx)
    g = randn(*y.shape, dtype=dtype)
    gi = _core.max_pool2d_backward(g, idx, x.shape)
    if dtype == np.float64:
        project = lambda x_: float((_core.adaptive_max_pool2d_forward(x_, out)[0] * g).sum())
        assert_close(gi, numerical_jacobian(project, [x], 0).reshape(x.shape),
                     rtol=1e-7, atol=1e-8)
    y_cl, idx_cl = _core.adaptive_max_pool2d_forward(nhwc(x), out, True)
    np.testing.assert_array_equal(y_cl, nhwc(y))
    np.testing.assert_array_equal(idx_cl, nhwc(idx))


def test_nan_propagates_through_average_and_adaptive_pooling():
    x = randn(1, 2, 4, 4)
    x[0, 1, 0, 0] = np.nan
    y = _core.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (2, 2), True, 0)
    assert np.isnan(y[0, 1, 0, 0]) and np.isfinite(y[0, 0]).all()
    assert np.isfinite(y[0, 1].reshape(-1)[1:]).all()
    y, idx = _core.adaptive_max_pool2d_forward(x, (1, 1))
    assert np.isnan(y[0, 1, 0, 0]) and idx[0, 1, 0, 0] == 0 and np.isfinite(y[0, 0]).all()
    assert np.isnan(_core.adaptive_avg_pool2d_forward(x, (1, 1))[0, 1, 0, 0])


# ---------------------------------------------------------------- float32, threads, empty batch

def test_float32_agrees_with_float64():
    x = randn(3, 4, 9, 8)
    args = ((3, 3), (2, 2), (1, 1, 1, 1))
    y64 = _core.avg_pool2d_forward(x, *args, (5, 4), False, 0)
    y32 = _core.avg_pool2d_forward(x.astype(np.float32), *args, (5, 4), False, 0)
    assert y32.dtype == np.float32
    assert_close(y32, y64, rtol=1e-5, atol=1e-6)
    g = randn(*y64.shape)
    assert_close(_core.avg_pool2d_backward(g.astype(np.float32), x.shape, *args, False, 0),
                 _core.avg_pool2d_backward(g, x.shape, *args, False, 0), rtol=1e-5, atol=1e-6)
    assert_close(_core.adaptive_avg_pool2d_forward(x.astype(np.float32), (4, 3)),
                 _core.adaptive_avg_pool2d_forward(x, (4, 3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_identical_with_one_and_two_threads(restore_threads, dtype, channels_last):
    x = randn(8, 16, 24, 24, dtype=dtype)  # 128 planes: every kernel runs in parallel
    if channels_last:
        x = nhwc(x)
    cl = channels_last
    shape = x.shape
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y, idx = _core.max_pool2d_forward(x, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (12, 12), cl)
        a = _core.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1, 1, 1), (12, 12), False, 0, cl)
        ay = _core.adaptive_avg_pool2d_forward(x, (5, 7), cl)
        my, midx = _core.adaptive_max_pool2d_forward(x, (5, 7), cl)
        results.append([y, idx, _core.max_pool2d_backward(y, idx, shape, cl), a,
                        _core.avg_pool2d_backward(a, shape, (3, 3), (2, 2), (1, 1, 1, 1), False,
                                                  0, cl),
                        ay, _core.adaptive_avg_pool2d_backward(ay, shape, cl), my, midx])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_empty_batch_gives_empty_outputs():
    x = randn(0, 3, 6, 6)
    y, idx = _core.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (3, 3))
    assert y.shape == idx.shape == (0, 3, 3, 3)
    assert _core.max_pool2d_backward(y, idx, x.shape).shape == x.shape
    assert _core.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (3, 3), True, 0).shape == \
        (0, 3, 3, 3)
    assert _core.adaptive_avg_pool2d_forward(x, (2, 2)).shape == (0, 3, 2, 2)


# ---------------------------------------------------------------- validation

def _max(xs, kernel=(2, 2), stride=(2, 2), pads=(0, 0, 0, 0), dilation=(1, 1), out=(1, 1),
         channels_last=False):
    return _core.max_pool2d_forward(randn(*xs), kernel, stride, pads, dilation, out,
                                    channels_last)


@pytest.mark.parametrize("kwargs,exc,fragments", [
    (dict(xs=(1, 1, 2, 2), kernel=(3, 3)), _core.ShapeError,
     ["max_pool2d: kernel size (3, 3) is larger than the padded input (2, 2)", "(1, 1, 2, 2)"]),
    (dict(xs=(1, 1, 4, 4), kernel=(2, 2), dilation=(4, 1)), _core.ShapeError,
     ["max_pool2d: kernel size (5, 2)", "(1, 1, 4, 4)"]),
    (dict(xs=(1, 4, 4)), _core.ShapeError, ["max_pool2d: expected a 4-D input", "(1, 4, 4)"]),
    (dict(xs=(1, 1, 4, 4), stride=(0, 1)), ValueError, ["max_pool2d: stride must be positive"]),
    (dict(xs=(1, 1, 4, 4), kernel=(0, 2)), ValueError, ["max_pool2d: kernel_size must be positive"]),
    (dict(xs=(1, 1, 4, 4), dilation=(0, 1)), ValueError, ["max_pool2d: dilation must be positive"]),
    (dict(xs=(1, 1, 4, 4), pads=(2, 0, 0, 0)), ValueError,
     ["at most half of the kernel size", "(2, 0, 0, 0)", "kernel (2, 2)"]),
    (dict(xs=(1, 1, 4, 4), pads=(0, 0, -1, 0)), ValueError, ["non-negative", "(0, 0, -1, 0)"]),
    (dict(xs=(1, 1, 4, 4), out=(0, 2)), _core.ShapeError, ["output size (0, 2) does not fit", "(1, 1, 4, 4)"]),
    (dict(xs=(1, 1, 4, 4), out=(2, 5)), _core.ShapeError, ["output size (2, 5) does not fit", "expected 2 along dimension 1"]),
    # ceil_mode's extra window is allowed only when it starts inside the input
    (dict(xs=(1, 1, 5, 5), out=(3, 4)), _core.ShapeError, ["expected 2 or 3 along dimension 1"]),
    (dict(xs=(1, 1, 4, 5), kernel=(2, 2), pads=(1, 1, 0, 0), out=(4, 2)), _core.ShapeError,
     ["output size (4, 2) does not fit", "expected 3 along dimension 0"]),
    # PyTorch's limit is half the undilated kernel, whatever the dilation
    (dict(xs=(1, 1, 9, 9), kernel=(3, 3), pads=(2, 2, 0, 0), dilation=(2, 2), out=(5, 3)),
     ValueError, ["at most half of the kernel size", "kernel (3, 3)"]),
])
def test_max_pool_errors(kwargs, exc, fragments):
    with pytest.raises(exc) as info:
        _max(**kwargs)
    if exc is ValueError:
        assert not isinstance(info.value, _core.ShapeError)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_avg_pool_and_adaptive_errors():
    with pytest.raises(_core.ShapeError, match=r"avg_pool2d: kernel size \(5, 5\).*\(1, 2, 4, 4\)"):
        _core.avg_pool2d_forward(randn(1, 2, 4, 4), (5, 5), (1, 1), (0, 0, 0, 0), (1, 1), True, 0)
    with pytest.raises(ValueError, match="avg_pool2d: padding should be non-negative and at most"):
        _core.avg_pool2d_forward(randn(1, 2, 4, 4), (3, 3), (1, 1), (2, 2, 2, 2), (1, 1), True, 0)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be positive.*\(0, 3\)"):
        _core.adaptive_avg_pool2d_forward(randn(1, 2, 4, 4), (0, 3))
    with pytest.raises(_core.ShapeError, match=r"adaptive_max_pool2d: expected a 4-D input.*\(2, 4, 4\)"):
        _core.adaptive_max_pool2d_forward(randn(2, 4, 4), (2, 2))
    with pytest.raises(_core.ShapeError, match=r"adaptive_avg_pool2d: input spatial size.*\(1, 2, 0, 4\)"):
        _core.adaptive_avg_pool2d_forward(randn(1, 2, 0, 4), (2, 2))
    with pytest.raises(_core.ShapeError, match=r"avg_pool2d_backward: output size \(3, 3\) does not fit .*expected 2 along dimension 1.*\(1, 2, 4, 4\)"):
        _core.avg_pool2d_backward(randn(1, 2, 3, 3), (1, 2, 4, 4), (2, 3), (1, 1), (0, 0, 0, 0), True, 0)
    with pytest.raises(_core.ShapeError, match=r"adaptive_avg_pool2d_backward: .*\(1, 3, 2, 2\)"):
        _core.adaptive_avg_pool2d_backward(randn(1, 3, 2, 2), (1, 2, 4, 4))


def test_channels_last_given_nchw_data_pools_the_wrong_axes_only_by_shape():
    # Pooling cannot tell the layouts apart; what it must do is return NHWC-shaped output.
    y, idx = _core.max_pool2d_forward(randn(2, 3, 8, 8), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1),
                                      (1, 4), channels_last=True)
    assert y.shape == idx.shape == (2, 1, 4, 8)


@pytest.mark.parametrize("bad", [-2, 16, 1 << 40])
def test_max_pool_backward_rejects_out_of_range_indices(bad):
    x = randn(1, 2, 4, 4)
    y, idx = _core.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (2, 2))
    idx = idx.copy()
    idx[0, 1, 1, 0] = bad
    with pytest.raises(ValueError, match=rf"max_pool2d_backward: index {bad} is outside the 4x4 input plane"):
        _core.max_pool2d_backward(y, idx, x.shape)


def test_max_pool_backward_shape_and_dtype_errors():
    x = randn(1, 2, 4, 4)
    y, idx = _core.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (2, 2))
    with pytest.raises(_core.ShapeError, match=r"indices have shape \(1, 2, 2, 1\) but grad_output has shape \(1, 2, 2, 2\)"):
        _core.max_pool2d_backward(y, idx[..., :1], x.shape)
    with pytest.raises(_core.ShapeError, match=r"max_pool2d_backward: grad_output \(1, 2, 2, 2\) does not match input shape \(1, 3, 4, 4\)"):
        _core.max_pool2d_backward(y, idx, (1, 3, 4, 4))
    with pytest.raises(TypeError, match=r"max_pool2d_backward: indices must hold integers.*float64"):
        _core.max_pool2d_backward(y, idx.astype(np.float64), x.shape)


@pytest.mark.parametrize("dtype", [np.int64, np.float16])
def test_non_float_input_raises_type_error(dtype):
    with pytest.raises(TypeError, match=r"max_pool2d: expected a float32 or float64 array.*\(1, 1, 2, 2\)"):
        _core.max_pool2d_forward(np.ones((1, 1, 2, 2), dtype), (2, 2), (2, 2), (0, 0, 0, 0),
                                 (1, 1), (1, 1))
    with pytest.raises(TypeError, match=r"avg_pool2d: expected a float32 or float64"):
        _core.avg_pool2d_forward(np.ones((1, 1, 2, 2), dtype), (2, 2), (2, 2), (0, 0, 0, 0),
                                 (1, 1), True, 0)
