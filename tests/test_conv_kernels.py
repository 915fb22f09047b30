"""ember._core convolution kernels (conv2d_forward / conv2d_backward, 1-D is height 1) against
a direct-loop NumPy reference, finite differences, the NHWC layout and each other."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(2024)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def conv2d_reference(x, w, b, stride, pads, dilation, groups):
    """Direct loops over output positions of NCHW x; pads = (top, bottom, left, right)."""
    n, c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pb, pl, pr) = stride, dilation, pads
    xp = np.zeros((n, c_in, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c_out, oh, ow))
    og = c_out // groups
    for o in range(c_out):
        g = o // og
        for y in range(oh):
            for x_ in range(ow):
                for i in range(kh):
                    for j in range(kw):
                        patch = xp[:, g * cg:(g + 1) * cg, y * sh + i * dh, x_ * sw + j * dw]
                        out[:, o, y, x_] += patch @ w[o, :, i, j]
        if b is not None:
            out[:, o] += b[o]
    return out


# (name, x shape NCHW, weight shape, bias, stride, pads (t, b, l, r), dilation, groups)
CASES = [
    ("plain", (2, 3, 6, 5), (4, 3, 3, 3), True, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ("no_bias", (2, 3, 6, 5), (4, 3, 3, 3), False, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ("stride", (2, 2, 7, 8), (3, 2, 3, 2), True, (2, 3), (0, 0, 0, 0), (1, 1), 1),
    ("padding", (1, 2, 5, 5), (3, 2, 3, 3), True, (1, 1), (1, 1, 2, 2), (1, 1), 1),
    ("same_even_kernel", (2, 2, 5, 6), (2, 2, 4, 2), True, (1, 1), (1, 2, 0, 1), (1, 1), 1),
    ("asymmetric_pads", (1, 2, 5, 4), (3, 2, 2, 3), True, (2, 1), (0, 1, 2, 0), (1, 1), 1),
    ("dilation", (2, 2, 9, 8), (3, 2, 3, 2), True, (1, 2), (1, 1, 0, 0), (2, 3), 1),
    ("groups", (2, 4, 5, 5), (6, 2, 3, 3), True, (1, 1), (1, 1, 1, 1), (1, 1), 2),
    ("depthwise", (2, 3, 5, 6), (6, 1, 3, 3), True, (2, 2), (1, 1, 1, 1), (1, 1), 3),
    ("batch1_odd", (1, 3, 7, 3), (5, 3, 5, 1), True, (3, 1), (2, 1, 0, 0), (1, 1), 1),
    ("one_by_one", (3, 4, 4, 5), (2, 4, 1, 1), True, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ("conv1d_like", (3, 2, 1, 11), (4, 2, 1, 3), True, (1, 2), (0, 0, 1, 2), (1, 2), 1),
    ("kernel_equals_padded_input", (2, 1, 3, 3), (2, 1, 5, 4), True, (1, 1), (1, 1, 0, 1), (1, 1), 1),
    # NCHW with several channels runs as NHWC between transposes in 8 x 8 tiles: 9 channels,
    # 20 input and 12 output positions leave edge rows and columns around every tile.
    ("tiled_transposes", (1, 9, 4, 5), (9, 9, 2, 2), True, (1, 1), (0, 0, 0, 0), (1, 1), 1),
]
IDS = [c[0] for c in CASES]


def make(case, dtype=np.float64):
    _, xs, ws, bias, stride, pads, dilation, groups = case
    x, w = randn(*xs, dtype=dtype), randn(*ws, dtype=dtype)
    b = randn(ws[0], dtype=dtype) if bias else None
    return x, w, b, (stride, pads, dilation, groups)


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


# ---------------------------------------------------------------- forward vs NumPy

@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(case, dtype):
    x, w, b, args = make(case, dtype)
    out = _core.conv2d_forward(x, w, b, *args)
    want = conv2d_reference(x.astype(np.float64), w.astype(np.float64),
                            None if b is None else b.astype(np.float64), *args)
    assert out.dtype == dtype and out.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(out, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_channels_last_forward_and_backward_equal_nchw_on_transposed_data(case):
    x, w, b, args = make(case)
    out = _core.conv2d_forward(x, w, b, *args)
    out_cl = _core.conv2d_forward(nhwc(x), w, b, *args, channels_last=True)
    # Same products and sums; only Eigen's blocking of a transposed output may differ.
    assert_close(out_cl, nhwc(out), rtol=1e-13, atol=1e-13)
    g = randn(*out.shape)
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args)
    gi_cl, gw_cl, gb_cl = _core.conv2d_backward(nhwc(g), nhwc(x), w, *args, channels_last=True)
    assert_close(gi_cl, nhwc(gi), rtol=1e-13, atol=1e-13)
    assert_close(gw_cl, gw, rtol=1e-13, atol=1e-13)
    assert_close(gb_cl, gb, rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------- backward vs finite differences

# The projection is linear in each argument, so a central difference has no truncation error
# whatever its step: a step of 1e-2 instead of 1e-6 only cuts the rounding error (~1e-8 with
# 1e-6, as large as the tolerance, and different between instruction sets and optimisation
# levels) by 10^4.
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_matches_finite_differences(case):
    x, w, b, args = make(case)
    b = randn(w.shape[0]) if b is None else b  # the bias gradient exists either way
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args, need_input=True, need_weight=True,
                                       need_bias=True)
    project = lambda x_, w_, b_: float((_core.conv2d_forward(x_, w_, b_, *args) * g).sum())
    for got, k, arr in [(gi, 0, x), (gw, 1, w), (gb, 2, b)]:
        assert got.shape == arr.shape and got.dtype == np.float64
        assert_close(got, numerical_jacobian(project, [x, w, b], k, eps=1e-2).reshape(arr.shape),
                     rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_satisfies_the_adjoint_identity(case):
    """The convolution is linear in x and in w: <J dx, g> = <dx, J^T g> exactly, with J from
    the direct-loop reference."""
    x, w, b, args = make(case)
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    gi, gw, _ = _core.conv2d_backward(g, x, w, *args)
    dx, dw = randn(*x.shape), randn(*w.shape)
    zero = np.zeros_like(b) if b is not None else None
    for got, direction, change in ((gi, dx, conv2d_reference(dx, w, zero, *args)),
                                   (gw, dw, conv2d_reference(x, dw, zero, *args))):
        want = float((change * g).sum())
        assert abs(float((got * direction).sum()) - want) <= 1e-12 * (1 + abs(want))


def test_backward_computes_only_requested():
    x, w, b, args = make(CASES[0])
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args, need_input=False, need_weight=True,
                                       need_bias=False)
    assert gi is None and gb is None and gw.shape == w.shape
    gi, gw, gb = _core.conv2d_backward(g, x, w, *args, need_input=True, need_weight=False,
                                       need_bias=True)
    assert gw is None and gi.shape == x.shape and gb.shape == (w.shape[0],)


# ---------------------------------------------------------------- float32 vs float64

@pytest.mark.parametrize("case", [CASES[0], CASES[6], CASES[8]], ids=lambda c: c[0])
def test_float32_agrees_with_float64(case):
    x, w, b, args = make(case)
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape)
    f32 = lambda a: None if a is None else a.astype(np.float32)
    assert_close(_core.conv2d_forward(f32(x), f32(w), f32(b), *args),
                 _core.conv2d_forward(x, w, b, *args), rtol=1e-4, atol=1e-4)
    for g32, g64 in zip(_core.conv2d_backward(f32(g), f32(x), f32(w), *args),
                        _core.conv2d_backward(g, x, w, *args)):
        assert g32.dtype == np.float32
        assert_close(g32, g64, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- threads

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_identical_with_one_and_two_threads(restore_threads, dtype, channels_last):
    # The batch is split over threads (one single-threaded GEMM per sample), the weight
    # gradient is summed over fixed 4-sample chunks in chunk order and the bias gradient per
    # channel in sample order: every result must be bitwise independent of the thread count.
    # 11 samples: an uneven split and a partial last chunk.
    # Sizes are large enough for every kernel (bias included) to take its parallel path.
    x, w, b = randn(11, 6, 24, 24, dtype=dtype), randn(16, 3, 3, 3, dtype=dtype), randn(16, dtype=dtype)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 2)
    g = randn(11, 16, 24, 24, dtype=dtype)
    if channels_last:
        x, g = nhwc(x), nhwc(g)
    results = []
    for threads in (1, 2, 1):
        _core.set_num_threads(threads)
        assert _core.get_num_threads() == threads
        results.append([_core.conv2d_forward(x, w, b, *args, channels_last=channels_last),
                        *_core.conv2d_backward(g, x, w, *args, channels_last=channels_last)])
    for run in results[1:]:
        for one, other in zip(results[0], run):
            np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_single_sample_agrees_with_one_and_two_threads(restore_threads, dtype, channels_last):
    # One sample (at most 4 for the weight gradient) is one large GEMM that Eigen threads
    # itself; its k-blocking depends on the thread count, so the forward output and the weight
    # gradient may differ in the last bits (measured: up to ~6 ulps of the largest value).
    # The bias gradient is a per-channel sum in fixed order: bitwise equal.
    x, w, g = randn(1, 32, 40, 40, dtype=dtype), randn(64, 32, 3, 3, dtype=dtype), randn(1, 64, 40, 40, dtype=dtype)
    if channels_last:
        x, g = nhwc(x), nhwc(g)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append([_core.conv2d_forward(x, w, None, *args, channels_last=channels_last),
                        *_core.conv2d_backward(g, x, w, *args, channels_last=channels_last)])
    for one, two in zip(*results):
        scale = float(np.abs(one).max())
        assert_close(one, two, rtol=0, atol=16 * np.finfo(dtype).eps * scale)
    np.testing.assert_array_equal(results[0][3], results[1][3])


# ---------------------------------------------------------------- layouts, NaN, empty batch

def test_strided_inputs_match_contiguous_copies():
    x = randn(2, 6, 5, 3).transpose(0, 3, 2, 1)  # (2, 3, 5, 6), not contiguous
    w = randn(4, 3, 3, 6)[..., ::2]               # (4, 3, 3, 3), strided
    b = randn(8)[::2]
    args = ((1, 1), (1, 0, 0, 1), (1, 1), 1)
    np.testing.assert_array_equal(_core.conv2d_forward(x, w, b, *args),
                                  _core.conv2d_forward(x.copy(), w.copy(), b.copy(), *args))
    g = randn(*_core.conv2d_forward(x, w, b, *args).shape[::-1]).T  # Fortran order
    for got, want in zip(_core.conv2d_backward(g, x, w, *args),
                         _core.conv2d_backward(g.copy(), x.copy(), w.copy(), *args)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("channels", [5, 16])  # 16: the Winograd path (conv_winograd.h)
@pytest.mark.parametrize("channels_last", [False, True])
def test_gradients_do_not_depend_on_where_the_arrays_lie(channels_last, channels):
    # Equal inputs at different addresses (offset by one element) give equal results: no
    # reduction may start at the first aligned element.
    x, w = randn(3, channels, 6, 7), randn(channels, channels, 3, 3)
    g = randn(3, channels, 4, 5)
    if channels_last:
        x, g = nhwc(x), nhwc(g)
    args = ((1, 1), (0, 0, 0, 0), (1, 1), 1)

    def at_offset(a, offset):
        buf = np.empty(a.size + 8, a.dtype)
        view = buf[offset:offset + a.size].reshape(a.shape)
        view[...] = a
        return view

    want = _core.conv2d_backward(g, x, w, *args, channels_last=channels_last)
    for offset in range(1, 8):
        got = _core.conv2d_backward(at_offset(g, offset), at_offset(x, offset), w, *args,
                                    channels_last=channels_last)
        for one, other in zip(got, want):
            np.testing.assert_array_equal(one, other)


def test_nan_propagates_only_to_windows_that_read_it():
    x, w = randn(2, 1, 5, 5), randn(1, 1, 3, 3)
    x[1, 0, 0, 0] = np.nan
    out = _core.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0), (1, 1), 1)
    assert np.isfinite(out[0]).all()
    assert np.isnan(out[1, 0, 0, 0]) and np.isfinite(out[1, 0, 1:]).all()
    gi, gw, gb = _core.conv2d_backward(np.ones_like(out), x, w, (1, 1), (0, 0, 0, 0), (1, 1), 1)
    # x[1, 0, 0, 0] meets only weight tap (0, 0), at output (0, 0).
    assert np.isnan(gw[0, 0, 0, 0]) and np.isfinite(gw.reshape(-1)[1:]).all()
    assert np.isfinite(gi).all() and np.isfinite(gb).all()


@pytest.mark.parametrize("channels_last", [False, True])
def test_empty_batch_gives_empty_output_and_zero_parameter_grads(channels_last):
    # Like PyTorch: N=0 is allowed; the weight and bias gradients of nothing are zero.
    x = randn(0, 5, 5, 3) if channels_last else randn(0, 3, 5, 5)
    w, b = randn(4, 3, 3, 3), randn(4)
    args = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    out = _core.conv2d_forward(x, w, b, *args, channels_last=channels_last)
    assert out.shape == ((0, 3, 3, 4) if channels_last else (0, 4, 3, 3))
    gi, gw, gb = _core.conv2d_backward(out, x, w, *args, channels_last=channels_last)
    assert gi.shape == x.shape
    np.testing.assert_array_equal(gw, np.zeros_like(w))
    np.testing.assert_array_equal(gb, np.zeros(4))


# ---------------------------------------------------------------- validation

def _call(xs, ws, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1,
          channels_last=False, dtype=np.float64):
    b = None if bias is None else randn(*bias)
    return _core.conv2d_forward(randn(*xs, dtype=dtype), randn(*ws), b, stride, pads, dilation,
                                groups, channels_last)


@pytest.mark.parametrize("kwargs,fragments", [
    (dict(xs=(1, 2, 3, 3), ws=(4, 2, 5, 3)), ["larger than the padded input", "(5, 3)", "(3, 3)",
                                              "(1, 2, 3, 3)", "(4, 2, 5, 3)"]),
    (dict(xs=(1, 2, 4, 4), ws=(4, 2, 3, 3), dilation=(2, 1)), ["larger", "(5, 3)", "(4, 4)"]),
    (dict(xs=(1, 2, 3, 3), ws=(4, 2, 4, 3), pads=(0, 0, 0, 0)), ["larger", "(1, 2, 3, 3)"]),
    (dict(xs=(1, 3, 5, 5), ws=(4, 2, 3, 3)), ["3 channels", "(4, 2, 3, 3)", "(1, 3, 5, 5)"]),
    (dict(xs=(1, 4, 5, 5), ws=(4, 1, 3, 3), groups=2), ["4 channels", "groups=2", "expects 2"]),
    (dict(xs=(1, 4, 5, 5), ws=(3, 2, 3, 3), groups=2), ["divisible by groups", "(3, 2, 3, 3)"]),
    (dict(xs=(1, 3, 5, 5), ws=(3, 1, 3, 3), groups=2), ["divisible by groups", "(1, 3, 5, 5)"]),
    (dict(xs=(2, 3, 5, 5), ws=(4, 3, 3, 3), channels_last=True),
     ["5 channels", "(2, 3, 5, 5)", "(4, 3, 3, 3)", "(N, H, W, C)"]),
    (dict(xs=(3, 5, 5), ws=(4, 3, 3, 3)), ["4-D input", "(3, 5, 5)"]),
    (dict(xs=(1, 3, 5, 5), ws=(4, 3, 3)), ["4-D weight", "(4, 3, 3)"]),
    (dict(xs=(1, 3, 5, 5), ws=(4, 3, 3, 3), bias=(3,)), ["bias", "(4,)", "(3,)"]),
    (dict(xs=(1, 3, 5, 5), ws=(4, 3, 0, 3)), ["at least 1x1", "(4, 3, 0, 3)"]),
])
def test_shape_errors_name_op_and_shapes(kwargs, fragments):
    with pytest.raises(_core.ShapeError, match="^conv2d: ") as info:
        _call(**kwargs)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


@pytest.mark.parametrize("kwargs,match", [
    (dict(stride=(0, 1)), r"conv2d: stride must be positive, got \(0, 1\)"),
    (dict(dilation=(1, 0)), r"conv2d: dilation must be positive, got \(1, 0\)"),
    (dict(pads=(0, -1, 0, 0)), r"conv2d: padding must be non-negative, got \(0, -1, 0, 0\)"),
    (dict(groups=0), "conv2d: groups must be positive, got 0"),
])
def test_bad_hyper_parameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        _call((1, 3, 5, 5), (4, 3, 3, 3), **kwargs)
    assert not isinstance(info.value, _core.ShapeError)


def test_backward_grad_output_shape_error():
    x, w = randn(2, 3, 5, 5), randn(4, 3, 3, 3)
    with pytest.raises(_core.ShapeError, match=r"conv2d_backward.*\(2, 4, 4, 4\).*\(2, 4, 3, 3\)"):
        _core.conv2d_backward(randn(2, 4, 4, 4), x, w, (1, 1), (0, 0, 0, 0), (1, 1), 1)


@pytest.mark.parametrize("call", [
    lambda: _core.conv2d_forward(randn(1, 2, 3, 3, dtype=np.float32), randn(1, 2, 2, 2), None,
                                 (1, 1), (0, 0, 0, 0), (1, 1), 1),
    lambda: _core.conv2d_forward(randn(1, 2, 3, 3), randn(1, 2, 2, 2, dtype=np.float32), None,
                                 (1, 1), (0, 0, 0, 0), (1, 1), 1),
    lambda: _core.conv2d_forward(randn(1, 2, 3, 3), randn(1, 2, 2, 2), randn(1, dtype=np.float32),
                                 (1, 1), (0, 0, 0, 0), (1, 1), 1),
    lambda: _core.conv2d_backward(randn(1, 1, 2, 2, dtype=np.float32), randn(1, 2, 3, 3),
                                  randn(1, 2, 2, 2), (1, 1), (0, 0, 0, 0), (1, 1), 1),
])
def test_mixed_float_dtypes_raise_type_error(call):
    with pytest.raises(TypeError, match=r"conv2d.*float.*shape \("):
        call()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.bool_])
def test_non_float_input_raises_type_error(dtype):
    with pytest.raises(TypeError, match=r"conv2d: expected a float32 or float64 array.*\(1, 2, 3, 3\)"):
        _core.conv2d_forward(np.ones((1, 2, 3, 3), dtype=dtype), randn(1, 2, 2, 2), None,
                             (1, 1), (0, 0, 0, 0), (1, 1), 1)
