"""ember._core loss kernels against NumPy references (PyTorch's formulas) and finite differences.

Mean reduction of an empty batch divides 0 by 0 and returns nan, as PyTorch does.
"""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(7)
NONE, MEAN, SUM = 0, 1, 2


def np_softplus_neg(x):  # log(1 + exp(-x))
    return np.logaddexp(0, -x)


def np_pointwise(kind, x, t, param, pw):
    d = x - t
    if kind == "mse_loss":
        return d * d
    if kind == "l1_loss":
        return np.abs(d)
    if kind == "huber_loss":
        return np.where(np.abs(d) < param, 0.5 * d * d, param * (np.abs(d) - 0.5 * param))
    if kind == "smooth_l1_loss":
        return np.where(np.abs(d) < param, 0.5 * d * d / param, np.abs(d) - 0.5 * param)
    if kind == "binary_cross_entropy":
        return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    pw = 1.0 if pw is None else pw
    return (1 - t) * x + (1 + (pw - 1) * t) * np_softplus_neg(x)


def reduce(losses, reduction, denom=None):
    if reduction == NONE:
        return losses
    total = losses.sum()
    return total if reduction == SUM else total / (losses.size if denom is None else denom)


POINTWISE = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
             "binary_cross_entropy_with_logits"]
PARAM = {"huber_loss": 0.7, "smooth_l1_loss": 0.6}


def pointwise_data(kind, shape=(4, 5)):
    if kind == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "binary_cross_entropy_with_logits":
        t = rng.uniform(0, 1, shape)
    # keep |x - t| away from the kinks at 0 and param
    d = x - t
    for kink in (0.0, PARAM.get(kind, 0.0)):
        x = np.where(np.abs(np.abs(d) - kink) < 0.05, x + 0.2, x)
    return x, t


def pw_args(kind, weighted, shape=(4, 5)):
    w = rng.uniform(0.5, 2, shape) if weighted else None
    pw = rng.uniform(0.5, 3, shape) if weighted and kind.endswith("logits") else None
    return w, pw


@pytest.mark.parametrize("kind", POINTWISE)
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pointwise_forward_matches_numpy(kind, reduction, weighted, dtype):
    x, t = pointwise_data(kind)
    w, pw = pw_args(kind, weighted)
    param = PARAM.get(kind, 0.0)
    cast = lambda a: None if a is None else a.astype(dtype)
    out = _core.pointwise_loss_forward(kind, cast(x), cast(t), cast(w), cast(pw), param, reduction)
    expected = np_pointwise(kind, x, t, param, pw) * (1 if w is None else w)
    assert out.dtype == dtype
    assert out.shape == (x.shape if reduction == NONE else ())
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(out, reduce(expected, reduction), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", POINTWISE)
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
@pytest.mark.parametrize("weighted", [False, True])
def test_pointwise_backward_matches_finite_differences(kind, reduction, weighted):
    x, t = pointwise_data(kind)
    w, pw = pw_args(kind, weighted)
    param = PARAM.get(kind, 0.0)
    g = rng.standard_normal(x.shape) if reduction == NONE else np.array(rng.standard_normal())
    fwd = lambda x_: float((_core.pointwise_loss_forward(kind, x_, t, w, pw, param, reduction) * g).sum())
    numeric = numerical_jacobian(fwd, [x], 0).reshape(x.shape)
    got = _core.pointwise_loss_backward(kind, g, x, t, w, pw, param, reduction)
    assert_close(got, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", POINTWISE)
def test_pointwise_threads_strides_float32(restore_threads, kind):
    x, t = pointwise_data(kind, (300, 301))
    w, pw = pw_args(kind, True, (300, 301))
    param = PARAM.get(kind, 0.0)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append([_core.pointwise_loss_forward(kind, x, t, w, pw, param, r) for r in (0, 1, 2)]
                       + [_core.pointwise_loss_backward(kind, np.array(1.5), x, t, w, pw, param, 1)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    xt, tt = x.T, t.T
    np.testing.assert_array_equal(
        _core.pointwise_loss_forward(kind, xt, tt, None, None, param, 0),
        _core.pointwise_loss_forward(kind, xt.copy(), tt.copy(), None, None, param, 0))
    f32 = _core.pointwise_loss_forward(kind, x.astype(np.float32), t.astype(np.float32), None, None, param, 1)
    assert_close(f32, _core.pointwise_loss_forward(kind, x, t, None, None, param, 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", POINTWISE)
def test_pointwise_empty_batch(kind):
    e = np.zeros((0, 3))
    assert _core.pointwise_loss_forward(kind, e, e, None, None, 1.0, NONE).shape == (0, 3)
    assert _core.pointwise_loss_forward(kind, e, e, None, None, 1.0, SUM) == 0
    assert np.isnan(_core.pointwise_loss_forward(kind, e, e, None, None, 1.0, MEAN))  # as PyTorch
    assert _core.pointwise_loss_backward(kind, np.array(1.0), e, e, None, None, 1.0, MEAN).shape == (0, 3)


@pytest.mark.parametrize("kind", POINTWISE)
def test_pointwise_nan_propagates(kind):
    x, t = pointwise_data(kind, (4,))
    x[1] = np.nan
    out = _core.pointwise_loss_forward(kind, x, t, None, None, 1.0, NONE)
    assert np.isnan(out[1]) and np.isfinite(np.delete(out, 1)).all()
    assert np.isnan(_core.pointwise_loss_forward(kind, x, t, None, None, 1.0, MEAN))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_extreme_logits_stay_finite(dtype):
    x = np.array([-1e4, -100, 100, 1e4], dtype=dtype)
    t = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    pw = np.full(4, 3.0, dtype=dtype)
    out = _core.pointwise_loss_forward("binary_cross_entropy_with_logits", x, t, None, pw, 0.0, NONE)
    assert np.isfinite(out).all()
    assert_close(out, np_pointwise("binary_cross_entropy_with_logits", x.astype(np.float64), t, 0, 3.0),
                 rtol=1e-6, atol=1e-6)
    grad = _core.pointwise_loss_backward("binary_cross_entropy_with_logits", np.ones(4, dtype), x, t,
                                         None, pw, 0.0, NONE)
    assert_close(grad, [-3.0, 0.0, 0.0, 1.0], rtol=1e-6, atol=1e-6)


def test_bce_clamps_log_at_minus_100_like_pytorch():
    out = _core.pointwise_loss_forward("binary_cross_entropy", np.array([0.0, 1.0]),
                                       np.array([1.0, 0.0]), None, None, 0.0, NONE)
    np.testing.assert_array_equal(out, [100.0, 100.0])


# ---------------------------------------------------------------- class-index losses

def np_cross_entropy(x, y, w, ignore_index, eps, reduction):
    n, c = x.shape
    lp = np_log_softmax(x)
    w = np.ones(c) if w is None else w
    keep = y != ignore_index
    ys = np.where(keep, y, 0)
    wy = np.where(keep, w[ys], 0.0)
    nll = -wy * lp[np.arange(n), ys]
    smooth = np.where(keep, -(lp * w).sum(1), 0.0)
    losses = (1 - eps) * nll + eps / c * smooth
    return reduce(losses, reduction, wy.sum()), lp, wy.sum()


def np_log_softmax(x):
    m = x.max(1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(1, keepdims=True))


CE_CASES = [  # (weighted, ignore_index, label_smoothing)
    (False, -100, 0.0), (True, -100, 0.0), (False, 2, 0.0), (True, 1, 0.0),
    (False, -100, 0.2), (True, -100, 0.3), (True, 0, 0.1), (False, -1, 0.1)]


def ce_data(n=6, c=4, ignore_index=-100):
    x, y = rng.standard_normal((n, c)) * 2, rng.integers(0, c, n)
    y[::3] = ignore_index if ignore_index < 0 else y[::3]
    if ignore_index >= 0:
        y[0] = ignore_index
    w = rng.uniform(0.5, 2, c)
    return x, y, w


@pytest.mark.parametrize("weighted,ignore_index,eps", CE_CASES)
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_forward_matches_numpy(weighted, ignore_index, eps, reduction, dtype):
    x, y, w = ce_data(ignore_index=ignore_index)
    w = w if weighted else None
    loss, lp, total = _core.cross_entropy_forward(x.astype(dtype), y, None if w is None else w.astype(dtype),
                                                  ignore_index, eps, reduction)
    e_loss, e_lp, e_total = np_cross_entropy(x, y, w, ignore_index, eps, reduction)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss.dtype == dtype and lp.dtype == dtype
    assert_close(loss, e_loss, rtol=tol, atol=tol)
    assert_close(lp, e_lp, rtol=tol, atol=tol)
    assert abs(total - e_total) < tol


@pytest.mark.parametrize("weighted,ignore_index,eps", CE_CASES)
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
def test_cross_entropy_backward_matches_finite_differences(weighted, ignore_index, eps, reduction):
    x, y, w = ce_data(ignore_index=ignore_index)
    w = w if weighted else None
    g = rng.standard_normal(6) if reduction == NONE else np.array(0.7)
    fwd = lambda x_: float((_core.cross_entropy_forward(x_, y, w, ignore_index, eps, reduction)[0] * g).sum())
    numeric = numerical_jacobian(fwd, [x], 0).reshape(x.shape)
    _, lp, total = _core.cross_entropy_forward(x, y, w, ignore_index, eps, reduction)
    got = _core.cross_entropy_backward(g, lp, y, w, ignore_index, eps, reduction, total)
    assert_close(got, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.25])
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
def test_cross_entropy_probs_matches_numpy_and_finite_differences(weighted, eps, reduction):
    x = rng.standard_normal((5, 4))
    p = rng.dirichlet(np.ones(4), 5)
    w = rng.uniform(0.5, 2, 4) if weighted else None
    loss, lp = _core.cross_entropy_probs_forward(x, p, w, eps, reduction)
    ts = (1 - eps) * p + eps / 4
    expected = -(np_log_softmax(x) * ts * (1 if w is None else w)).sum(1)
    assert_close(loss, reduce(expected, reduction), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(5) if reduction == NONE else np.array(1.3)
    fwd = lambda x_: float((_core.cross_entropy_probs_forward(x_, p, w, eps, reduction)[0] * g).sum())
    numeric = numerical_jacobian(fwd, [x], 0).reshape(x.shape)
    got = _core.cross_entropy_probs_backward(g, lp, p, w, eps, reduction)
    assert_close(got, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted,ignore_index", [(False, -100), (True, -100), (True, 1)])
@pytest.mark.parametrize("reduction", [NONE, MEAN, SUM])
def test_nll_loss_matches_numpy_and_finite_differences(weighted, ignore_index, reduction):
    x, y, w = ce_data(ignore_index=ignore_index)
    lp = np_log_softmax(x)
    w = w if weighted else None
    loss, total = _core.nll_loss_forward(lp, y, w, ignore_index, reduction)
    e_loss, _, e_total = np_cross_entropy(x, y, w, ignore_index, 0.0, reduction)
    assert_close(loss, e_loss, rtol=1e-12, atol=1e-12)
    assert abs(total - e_total) < 1e-12
    g = rng.standard_normal(6) if reduction == NONE else np.array(0.9)
    fwd = lambda lp_: float((_core.nll_loss_forward(lp_, y, w, ignore_index, reduction)[0] * g).sum())
    numeric = numerical_jacobian(fwd, [lp], 0).reshape(lp.shape)
    assert_close(_core.nll_loss_backward(g, lp, y, w, ignore_index, reduction, total), numeric,
                 rtol=1e-6, atol=1e-8)


def test_cross_entropy_threads_strides_float32(restore_threads):
    x, y = rng.standard_normal((2000, 50)), rng.integers(0, 50, 2000)
    w = rng.uniform(0.5, 2, 50)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        loss, lp, total = _core.cross_entropy_forward(x, y, w, -100, 0.1, MEAN)
        results.append([loss, lp, _core.cross_entropy_backward(np.array(1.0), lp, y, w, -100, 0.1, MEAN, total)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    xt = x.T.copy().T  # Fortran order
    np.testing.assert_array_equal(_core.cross_entropy_forward(xt, y[::1], w)[0],
                                  _core.cross_entropy_forward(x, y, w)[0])
    y_strided = np.stack([y, y], 1)[:, 0]
    np.testing.assert_array_equal(_core.cross_entropy_forward(x, y_strided, w)[0],
                                  _core.cross_entropy_forward(x, y, w)[0])
    f32 = _core.cross_entropy_forward(x.astype(np.float32), y, w.astype(np.float32), -100, 0.1, MEAN)[0]
    assert_close(f32, results[0][0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_extreme_logits_stay_finite(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    y = np.array([1, 0])
    loss, lp, total = _core.cross_entropy_forward(x, y, None, -100, 0.1, NONE)
    assert np.isfinite(loss).all() and np.isfinite(lp).all()
    assert_close(loss, np_cross_entropy(x.astype(np.float64), y, None, -100, 0.1, NONE)[0], rtol=1e-6, atol=1e-3)
    grad = _core.cross_entropy_backward(np.ones(2, dtype), lp, y, None, -100, 0.1, NONE, total)
    assert np.isfinite(grad).all()


def test_cross_entropy_empty_batch_and_all_ignored():
    x, y = np.zeros((0, 3)), np.zeros(0, np.int64)
    assert np.isnan(_core.cross_entropy_forward(x, y, None, -100, 0.0, MEAN)[0])  # 0 / 0 like PyTorch
    assert _core.cross_entropy_forward(x, y, None, -100, 0.0, SUM)[0] == 0
    assert _core.cross_entropy_forward(x, y, None, -100, 0.0, NONE)[0].shape == (0,)
    loss, lp, total = _core.cross_entropy_forward(np.ones((2, 3)), np.array([-100, -100]), None, -100, 0.0, MEAN)
    assert total == 0 and np.isnan(loss)  # PyTorch: nan when every target is ignored
    grad = _core.cross_entropy_backward(np.array(1.0), lp, np.array([-100, -100]), None, -100, 0.0, MEAN, total)
    np.testing.assert_array_equal(grad, np.zeros((2, 3)))


def test_cross_entropy_nan_propagates():
    x = rng.standard_normal((3, 4))
    x[1, 2] = np.nan
    loss, _, _ = _core.cross_entropy_forward(x, np.array([0, 1, 2]), None, -100, 0.0, NONE)
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("bad", [-1, 4, 100])
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_out_of_range_target(op, bad):
    x, y = np.zeros((3, 4)), np.array([0, bad, 1])
    with pytest.raises(ValueError, match=rf"{op}: target {bad} at position 1 .*4 classes.*\(3, 4\).*\(3,\)") as info:
        getattr(_core, f"{op}_forward")(x, y)
    assert not isinstance(info.value, _core.ShapeError)
    getattr(_core, f"{op}_forward")(x, y, None, bad)  # allowed as ignore_index


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_loss_shape_errors(op):
    fwd = getattr(_core, f"{op}_forward")
    with pytest.raises(_core.ShapeError, match=rf"{op}: input must be \(N, C\).*\(2, 3, 4\)"):
        fwd(np.zeros((2, 3, 4)), np.zeros(2, np.int64))
    with pytest.raises(_core.ShapeError, match=rf"{op}: target must have shape \(2,\).*\(2, 3\).*\(3,\)"):
        fwd(np.zeros((2, 3)), np.zeros(3, np.int64))
    with pytest.raises(_core.ShapeError, match=rf"{op}: weight must have shape \(3,\).*\(4,\)"):
        fwd(np.zeros((2, 3)), np.zeros(2, np.int64), np.ones(4))


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_loss_dtype_errors(op):
    fwd = getattr(_core, f"{op}_forward")
    with pytest.raises(TypeError, match=rf"{op}: target must hold integers.*float64.*\(2,\)"):
        fwd(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(TypeError, match=rf"{op}: .*int64.*\(2, 3\)"):
        fwd(np.zeros((2, 3), np.int64), np.zeros(2, np.int64))
    with pytest.raises(TypeError, match=rf"{op}: weight has dtype float32.*\(3,\)"):
        fwd(np.zeros((2, 3)), np.zeros(2, np.int64), np.ones(3, np.float32))


@pytest.mark.parametrize("call", [
    lambda r: _core.pointwise_loss_forward("mse_loss", np.ones(3), np.ones(3), reduction=r),
    lambda r: _core.pointwise_loss_backward("mse_loss", np.ones(3), np.ones(3), np.ones(3), reduction=r),
    lambda r: _core.cross_entropy_forward(np.ones((2, 3)), np.zeros(2, np.int64), reduction=r),
    lambda r: _core.nll_loss_forward(np.ones((2, 3)), np.zeros(2, np.int64), reduction=r),
    lambda r: _core.cross_entropy_probs_forward(np.ones((2, 3)), np.ones((2, 3)), reduction=r),
])
@pytest.mark.parametrize("bad", [-1, 3])
def test_bad_reduction(call, bad):
    with pytest.raises(ValueError, match=rf"(mse_loss|cross_entropy|nll_loss).*reduction.*got {bad}"):
        call(bad)


def test_pointwise_validation():
    with pytest.raises(_core.ShapeError, match=r"mse_loss: input and target shapes differ.*\(2, 3\).*\(3, 2\)"):
        _core.pointwise_loss_forward("mse_loss", np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(_core.ShapeError, match=r"l1_loss_backward: .*\(3,\).*\(2, 3\)"):
        _core.pointwise_loss_backward("l1_loss", np.ones(3), np.ones((2, 3)), np.ones((2, 3)), reduction=0)
    with pytest.raises(_core.ShapeError, match=r"huber_loss: weight must have shape \(2, 3\).*\(3,\)"):
        _core.pointwise_loss_forward("huber_loss", np.ones((2, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(TypeError, match=r"mse_loss: target has dtype float32.*\(2, 3\)"):
        _core.pointwise_loss_forward("mse_loss", np.ones((2, 3)), np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"l1_loss.*int64.*\(2, 3\)"):
        _core.pointwise_loss_forward("l1_loss", np.ones((2, 3), np.int64), np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match="unknown pointwise loss 'kl_div'"):
        _core.pointwise_loss_forward("kl_div", np.ones(2), np.ones(2))
    with pytest.raises(_core.ShapeError, match=r"cross_entropy: probability target .*\(2, 3\).*\(2, 4\)"):
        _core.cross_entropy_probs_forward(np.ones((2, 3)), np.ones((2, 4)))
