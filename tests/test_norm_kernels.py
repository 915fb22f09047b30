"""ember._core batch and layer normalization kernels against NumPy, finite differences, the
channels-last layout and each other."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(5)
EPS = 1e-5


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def channels_last(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def bn_reference(x, weight, bias, mean=None, var=None):
    """Per-channel normalization of (N, C, ...) x; batch statistics unless mean/var given."""
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axes), x.var(axes)
    y = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + EPS)
    if weight is not None:
        y = y * weight.reshape(view)
    if bias is not None:
        y = y + bias.reshape(view)
    return y, mean, var


def invstd_of(var):
    return 1 / np.sqrt(var + EPS)


def assert_layouts_agree(got, want):
    """The channels-last kernels vectorize over channels and the channels-first ones along
    positions, so their sums run in different orders: equal to a few units of rounding."""
    tol = 1e-6 if want.dtype == np.float32 else 1e-14
    assert got.dtype == want.dtype
    assert_close(got, want, rtol=tol, atol=tol)


SHAPES = [(4, 3), (2, 3, 5), (3, 2, 4, 5), (1, 4, 3, 3), (2, 3, 2, 2, 2)]
AFFINE = [(True, True), (False, False), (True, False)]


# ---------------------------------------------------------------- batch norm, training

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", AFFINE, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_train_forward_matches_numpy(shape, affine, dtype):
    x = randn(*shape, dtype=dtype) * 3 + 1
    w = randn(shape[1], dtype=dtype) if affine[0] else None
    b = randn(shape[1], dtype=dtype) if affine[1] else None
    y, mean, var = _core.batch_norm_forward_train(x, w, b, EPS)
    f64 = lambda a: None if a is None else a.astype(np.float64)
    want, want_mean, want_var = bn_reference(f64(x), f64(w), f64(b))
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == mean.dtype == var.dtype == dtype
    assert_close(y, want, rtol=tol, atol=tol)
    assert_close(mean, want_mean, rtol=tol, atol=tol)
    assert_close(var, want_var, rtol=tol, atol=tol)  # biased variance
    yl, ml, vl = _core.batch_norm_forward_train(channels_last(x), w, b, EPS, channels_last=True)
    for got, want in ((ml, mean), (vl, var), (yl, channels_last(y))):
        assert_layouts_agree(got, want)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", AFFINE, ids=str)
def test_batch_norm_train_backward_matches_finite_differences(shape, affine):
    # Without a weight the kernel still returns the gradient of a weight of ones.
    x, b, g = randn(*shape), randn(shape[1]), randn(*shape)
    w = randn(shape[1]) if affine[0] else np.ones(shape[1])
    use_w = w if affine[0] else None
    _, mean, var = _core.batch_norm_forward_train(x, use_w, b, EPS)
    gi, gw, gb = _core.batch_norm_backward(g, x, mean, invstd_of(var), use_w, True)
    project = lambda x_, w_, b_: float((_core.batch_norm_forward_train(x_, w_, b_, EPS)[0] * g).sum())
    for got, k, arr in [(gi, 0, x), (gw, 1, w), (gb, 2, b)]:
        assert got.shape == arr.shape
        assert_close(got, numerical_jacobian(project, [x, w, b], k).reshape(arr.shape),
                     rtol=1e-6, atol=1e-7)
    gl = _core.batch_norm_backward(channels_last(g), channels_last(x), mean, invstd_of(var),
                                   use_w, True, channels_last=True)
    for got, want in zip(gl, (channels_last(gi), gw, gb)):
        assert_layouts_agree(got, want)


# ---------------------------------------------------------------- batch norm, many blocks
# The kernels gather statistics per block of about 8192 values and merge the blocks; these
# shapes give several blocks with a short last one in both layouts (and the (N, C) and
# one-channel walks), on data far from zero (a variance of 0.25 around 300). The first
# section's shapes are one block each: a broken merge passes them all.

BLOCK_SHAPES = [(37, 5, 300), (3000, 7), (50, 1, 400), (6, 3, 70, 45)]


def bn_backward_reference(g, x, weight):
    """Gradients of batch norm with batch statistics, from the closed form, in float64."""
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axes).reshape(view)) / np.sqrt(x.var(axes).reshape(view) + EPS)
    gw, gb = (g * xhat).sum(axes), g.sum(axes)
    invstd = 1 / np.sqrt(x.var(axes) + EPS)
    gi = (weight * invstd).reshape(view) * (g - g.mean(axes).reshape(view)
                                            - xhat * (g * xhat).mean(axes).reshape(view))
    return gi, gw, gb


def layouts(x, *more):
    """(arrays, channels_last) in both layouts."""
    yield (x, *more), False
    yield tuple(channels_last(a) for a in (x, *more)), True


@pytest.mark.parametrize("shape", BLOCK_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_many_blocks_match_numpy(shape, dtype):
    c = shape[1]
    x = (randn(*shape) * 0.5 + 300).astype(dtype)
    w, b, g = randn(c, dtype=dtype), randn(c, dtype=dtype), randn(*shape, dtype=dtype)
    x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    want_y, want_mean, want_var = bn_reference(x64, w64, b.astype(np.float64))
    want_grads = bn_backward_reference(g64, x64, w64)
    # float32: the data's own rounding (300 + 0.5 z in float32) makes y good to ~1e-5 only.
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for (xl, gl), last in layouts(x, g):
        y, mean, var = _core.batch_norm_forward_train(xl, w, b, EPS, last)
        assert_close(mean, want_mean, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)
        assert_close(var, want_var, rtol=1e-5 if dtype == np.float32 else 1e-11, atol=0)
        assert_close(y, channels_last(want_y) if last else want_y, rtol=tol, atol=tol)
        inv = invstd_of(var.astype(np.float64)).astype(dtype)
        grads = _core.batch_norm_backward(gl, xl, mean, inv, w, True, last)
        for got, want in zip(grads, want_grads):
            want = channels_last(want) if last and want.ndim > 1 else want
            scale = np.abs(want).max()
            assert_close(got, want, rtol=tol, atol=tol * scale)
        y_eval = _core.batch_norm_forward_eval(xl, mean, var, w, b, EPS, last)
        assert_close(y_eval, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", BLOCK_SHAPES, ids=str)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_many_blocks_directional_derivatives(shape, training):
    # A full finite-difference Jacobian of these sizes is too slow: the gradient of
    # <y, g> along random directions of x, weight and bias instead, in float64.
    c = shape[1]
    x, w, b, g = randn(*shape) * 2 + 1, randn(c), randn(c), randn(*shape)
    mean, var = randn(c), rng.uniform(0.5, 2, c)
    h = 1e-6
    for (xl, gl), last in layouts(x, g):
        def project(x_, w_, b_):
            if training:
                return float((_core.batch_norm_forward_train(x_, w_, b_, EPS, last)[0] * gl).sum())
            return float((_core.batch_norm_forward_eval(x_, mean, var, w_, b_, EPS, last) * gl).sum())
        if training:
            _, m, v = _core.batch_norm_forward_train(xl, w, b, EPS, last)
        else:
            m, v = mean, var
        grads = _core.batch_norm_backward(gl, xl, m, invstd_of(v), w, training, last)
        args = [xl, w, b]
        for k, grad in enumerate(grads):
            direction = randn(*args[k].shape)
            plus = [a + h * direction if i == k else a for i, a in enumerate(args)]
            minus = [a - h * direction if i == k else a for i, a in enumerate(args)]
            numeric = (project(*plus) - project(*minus)) / (2 * h)
            assert_close(float((grad * direction).sum()), numeric, rtol=1e-6, atol=1e-6)


def test_batch_norm_empty_positions_give_nan_statistics():
    for x, last in [(randn(2, 3, 0), False), (randn(2, 0, 3), True), (randn(0, 3), False)]:
        y, mean, var = _core.batch_norm_forward_train(x, None, None, EPS, last)
        assert y.shape == x.shape and mean.shape == var.shape == (3,)
        assert np.isnan(mean).all() and np.isnan(var).all()


# ---------------------------------------------------------------- batch norm, eval

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", AFFINE, ids=str)
def test_batch_norm_eval_forward_and_backward(shape, affine):
    c = shape[1]
    x, mean, var = randn(*shape), randn(c), rng.uniform(0.5, 2, c)
    w = randn(c) if affine[0] else np.ones(c)
    b = randn(c) if affine[1] else None
    use_w = w if affine[0] else None
    y = _core.batch_norm_forward_eval(x, mean, var, use_w, b, EPS)
    assert_close(y, bn_reference(x, use_w, b, mean, var)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(
        _core.batch_norm_forward_eval(channels_last(x), mean, var, use_w, b, EPS, True),
        channels_last(y))
    g = randn(*shape)
    gi, gw, gb = _core.batch_norm_backward(g, x, mean, invstd_of(var), use_w, False)
    project = lambda x_, w_: float((_core.batch_norm_forward_eval(x_, mean, var, w_, b, EPS) * g).sum())
    assert_close(gi, numerical_jacobian(project, [x, w], 0).reshape(x.shape), rtol=1e-7, atol=1e-8)
    assert_close(gw, numerical_jacobian(project, [x, w], 1).reshape(w.shape), rtol=1e-7, atol=1e-8)
    assert_close(gb, g.sum(axis=(0,) + tuple(range(2, len(shape)))), rtol=1e-12, atol=1e-12)


def test_batch_norm_backward_computes_only_requested():
    x, g = randn(3, 2, 4), randn(3, 2, 4)
    _, mean, var = _core.batch_norm_forward_train(x, None, None, EPS)
    gi, gw, gb = _core.batch_norm_backward(g, x, mean, invstd_of(var), None, True,
                                           need_input=False, need_weight=True, need_bias=False)
    assert gi is None and gb is None and gw.shape == (2,)


# ---------------------------------------------------------------- layer norm

LN_SHAPES = [(4, 6), (1, 7), (5, 1), (3, 30)]


@pytest.mark.parametrize("shape", LN_SHAPES, ids=str)
@pytest.mark.parametrize("affine", AFFINE, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_forward_matches_numpy(shape, affine, dtype):
    x = randn(*shape, dtype=dtype) * 2 - 1
    w = randn(shape[1], dtype=dtype) if affine[0] else None
    b = randn(shape[1], dtype=dtype) if affine[1] else None
    y, mean, invstd = _core.layer_norm_forward(x, w, b, EPS)
    x64 = x.astype(np.float64)
    want_mean, want_invstd = x64.mean(1), 1 / np.sqrt(x64.var(1) + EPS)
    want = (x64 - want_mean[:, None]) * want_invstd[:, None]
    want = want * (1 if w is None else w.astype(np.float64)) + (0 if b is None else b.astype(np.float64))
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == dtype
    assert_close(y, want, rtol=tol, atol=tol)
    assert_close(mean, want_mean, rtol=tol, atol=tol)
    assert_close(invstd, want_invstd, rtol=tol, atol=tol * 100)  # 1/sqrt(eps) when var is 0


@pytest.mark.parametrize("shape", LN_SHAPES, ids=str)
@pytest.mark.parametrize("affine", AFFINE, ids=str)
def test_layer_norm_backward_matches_finite_differences(shape, affine):
    x, b, g = randn(*shape), randn(shape[1]), randn(*shape)
    w = randn(shape[1]) if affine[0] else np.ones(shape[1])  # None: the gradient at ones
    use_w = w if affine[0] else None
    _, mean, invstd = _core.layer_norm_forward(x, use_w, b, EPS)
    gi, gw, gb = _core.layer_norm_backward(g, x, mean, invstd, use_w)
    project = lambda x_, w_, b_: float((_core.layer_norm_forward(x_, w_, b_, EPS)[0] * g).sum())
    for got, k, arr in [(gi, 0, x), (gw, 1, w), (gb, 2, b)]:
        assert got.shape == arr.shape
        assert_close(got, numerical_jacobian(project, [x, w, b], k).reshape(arr.shape),
                     rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- float32, threads, NaN

def test_float32_agrees_with_float64():
    x, w, b, g = randn(16, 4, 6, 6) * 5 + 3, randn(4), randn(4), randn(16, 4, 6, 6)
    f32 = lambda a: a.astype(np.float32)
    out64, out32 = (_core.batch_norm_forward_train(x, w, b, EPS),
                    _core.batch_norm_forward_train(f32(x), f32(w), f32(b), EPS))
    for a32, a64 in zip(out32, out64):
        assert_close(a32, a64, rtol=1e-5, atol=1e-5)
    inv = invstd_of(out64[2])
    for a32, a64 in zip(_core.batch_norm_backward(f32(g), f32(x), f32(out64[1]), f32(inv), f32(w), True),
                        _core.batch_norm_backward(g, x, out64[1], inv, w, True)):
        assert a32.dtype == np.float32
        assert_close(a32, a64, rtol=1e-4, atol=1e-3)
    x2, g2 = x.reshape(64, 36), g.reshape(64, 36)
    y64, m64, i64 = _core.layer_norm_forward(x2, randn(36), None, EPS)
    y32, m32, i32 = _core.layer_norm_forward(f32(x2), None, None, EPS)
    assert_close(m32, m64, rtol=1e-5, atol=1e-5)
    assert_close(i32, i64, rtol=1e-5, atol=1e-5)
    for a32, a64 in zip(_core.layer_norm_backward(f32(g2), f32(x2), m32, i32, None),
                        _core.layer_norm_backward(g2, x2, m64, i64, None)):
        assert_close(a32, a64, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", [False, True])
def test_identical_with_one_and_two_threads(restore_threads, dtype, layout):
    # Each channel (BN) or row / column (LN) is reduced by one thread in a fixed order.
    x, g = randn(16, 8, 20, 20, dtype=dtype), randn(16, 8, 20, 20, dtype=dtype)
    if layout:
        x, g = channels_last(x), channels_last(g)
    w, b = randn(8, dtype=dtype), randn(8, dtype=dtype)
    x2, g2 = x.reshape(-1, 400), g.reshape(-1, 400)  # 128 rows x 400 columns
    w2 = randn(400, dtype=dtype)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y, mean, var = _core.batch_norm_forward_train(x, w, b, EPS, layout)
        inv = invstd_of(var.astype(np.float64)).astype(dtype)
        ly, lm, li = _core.layer_norm_forward(x2, w2, w2, EPS)
        results.append([y, mean, var, _core.batch_norm_forward_eval(x, mean, var, w, b, EPS, layout),
                        *_core.batch_norm_backward(g, x, mean, inv, w, True, layout),
                        ly, lm, li, *_core.layer_norm_backward(g2, x2, lm, li, w2)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_nan_stays_in_its_channel_or_row():
    x = randn(4, 3, 5)
    x[2, 1, 3] = np.nan
    y, mean, var = _core.batch_norm_forward_train(x, None, None, EPS)
    assert np.isnan(y[:, 1]).all() and np.isnan(mean[1]) and np.isnan(var[1])
    assert np.isfinite(y[:, [0, 2]]).all()
    y, mean, invstd = _core.layer_norm_forward(x.reshape(12, 5), None, None, EPS)
    assert np.isnan(y[7]).all() and np.isnan(mean[7])
    assert np.isfinite(np.delete(y, 7, axis=0)).all()


def test_constant_channel_normalizes_to_zero_not_nan():
    x = np.full((4, 2, 3), 7.0)
    y, mean, var = _core.batch_norm_forward_train(x, None, None, EPS)
    np.testing.assert_array_equal(y, 0)
    np.testing.assert_array_equal(var, 0)


# ---------------------------------------------------------------- validation

def test_batch_norm_errors_name_op_and_shapes():
    with pytest.raises(_core.ShapeError, match=r"batch_norm: expected an input with at least 2 dimensions.*\(5,\)"):
        _core.batch_norm_forward_train(randn(5), None, None, EPS)
    with pytest.raises(_core.ShapeError, match=r"batch_norm: weight must have shape \(3,\), got \(4,\)"):
        _core.batch_norm_forward_train(randn(2, 3, 4), randn(4), None, EPS)
    with pytest.raises(_core.ShapeError, match=r"batch_norm: bias must have shape \(4,\), got \(3,\)"):
        # channels_last: the channel axis is the last one
        _core.batch_norm_forward_train(randn(2, 3, 4), None, randn(3), EPS, channels_last=True)
    with pytest.raises(_core.ShapeError, match=r"batch_norm: running_var must have shape \(3,\), got \(2,\)"):
        _core.batch_norm_forward_eval(randn(2, 3, 4), randn(3), randn(2) ** 2, None, None, EPS)
    with pytest.raises(ValueError, match="batch_norm: eps must be positive, got 0"):
        _core.batch_norm_forward_train(randn(2, 3), None, None, 0.0)
    with pytest.raises(_core.ShapeError, match=r"batch_norm_backward: grad_output has shape \(2, 3\) but input has shape \(2, 4\)"):
        _core.batch_norm_backward(randn(2, 3), randn(2, 4), randn(4), randn(4), None, True)
    with pytest.raises(ValueError, match="batch_norm_backward: mean and invstd are required"):
        _core.batch_norm_backward(randn(2, 4), randn(2, 4), None, randn(4), None, True)
    with pytest.raises(TypeError, match=r"batch_norm: weight has dtype float32 but expected float64"):
        _core.batch_norm_forward_train(randn(2, 3), randn(3, dtype=np.float32), None, EPS)
    with pytest.raises(TypeError, match=r"batch_norm: expected a float32 or float64 array, got dtype int64"):
        _core.batch_norm_forward_train(np.ones((2, 3), np.int64), None, None, EPS)


def test_layer_norm_errors_name_op_and_shapes():
    with pytest.raises(_core.ShapeError, match=r"layer_norm: expected a 2-D \(rows, normalized size\) input, got shape \(2, 3, 4\)"):
        _core.layer_norm_forward(randn(2, 3, 4), None, None, EPS)
    with pytest.raises(_core.ShapeError, match=r"layer_norm: weight must have shape \(4,\), got \(3,\)"):
        _core.layer_norm_forward(randn(2, 4), randn(3), None, EPS)
    with pytest.raises(_core.ShapeError, match=r"layer_norm_backward: .*\(2, 4\) and \(2, 3\)"):
        _core.layer_norm_backward(randn(2, 3), randn(2, 4), randn(2), randn(2), None)
    with pytest.raises(_core.ShapeError, match=r"layer_norm_backward: invstd must have shape \(2,\), got \(4,\)"):
        _core.layer_norm_backward(randn(2, 4), randn(2, 4), randn(2), randn(4), None)
    with pytest.raises(TypeError, match=r"layer_norm: bias has dtype float32"):
        _core.layer_norm_forward(randn(2, 4), None, randn(4, dtype=np.float32), EPS)
    with pytest.raises(ValueError, match="layer_norm: eps must be positive"):
        _core.layer_norm_forward(randn(2, 4), None, None, -1.0)
