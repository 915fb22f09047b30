"""ember._core optimizer steps against NumPy transcriptions of torch.optim's single-tensor code."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close

rng = np.random.default_rng(5)


def np_grad(g, p, wd, maximize):
    g = -g if maximize else g
    return g + wd * p


def ref_sgd(p, g, buf, first, lr, momentum, dampening, wd, nesterov, maximize):
    d = np_grad(g, p, wd, maximize)
    if momentum:
        buf[...] = d if first else momentum * buf + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    p -= lr * d


def ref_adam(p, g, m, v, vmax, step, lr, b1, b2, eps, wd, decoupled, amsgrad, maximize):
    g = -g if maximize else g
    if decoupled:
        p *= 1 - lr * wd
    else:
        g = g + wd * p
    m += (g - m) * (1 - b1)
    v[...] = b2 * v + (1 - b2) * g * g
    second = v
    if amsgrad:
        np.maximum(vmax, v, out=vmax)
        second = vmax
    p -= lr / (1 - b1 ** step) * m / (np.sqrt(second) / np.sqrt(1 - b2 ** step) + eps)


def ref_rmsprop(p, g, sq, buf, gavg, lr, alpha, eps, wd, momentum, centered, maximize):
    g = np_grad(g, p, wd, maximize)
    sq[...] = alpha * sq + (1 - alpha) * g * g
    if centered:
        gavg += (g - gavg) * (1 - alpha)
        avg = np.sqrt(sq - gavg * gavg) + eps
    else:
        avg = np.sqrt(sq) + eps
    if momentum > 0:
        buf[...] = momentum * buf + g / avg
        p -= lr * buf
    else:
        p -= lr * g / avg


def ref_adagrad(p, g, s, clr, wd, eps, maximize):
    g = np_grad(g, p, wd, maximize)
    s += g * g
    p -= clr * g / (np.sqrt(s) + eps)


SHAPES = [(3, 4), (5,), (2, 2, 3)]


def params(dtype=np.float64):
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def grads_for(ps, step):
    return [(rng.standard_normal(p.shape) * (1 + step)).astype(p.dtype) for p in ps]


@pytest.mark.parametrize("momentum,dampening,nesterov", [(0.0, 0.0, False), (0.9, 0.0, False),
                                                         (0.9, 0.1, False), (0.8, 0.0, True)])
@pytest.mark.parametrize("wd,maximize", [(0.0, False), (0.01, False), (0.05, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_matches_pytorch_formula(momentum, dampening, nesterov, wd, maximize, dtype):
    ps = params(dtype)
    refs = [p.astype(np.float64) for p in ps]
    bufs = [np.zeros_like(p) if momentum else None for p in ps]
    ref_bufs = [np.zeros_like(p) for p in refs]
    for step in range(3):
        gs = grads_for(ps, step)
        _core.sgd_step(ps, gs, bufs, step == 0, 0.1, momentum, dampening, wd, nesterov, maximize)
        for p, g, b in zip(refs, gs, ref_bufs):
            ref_sgd(p, g.astype(np.float64), b, step == 0, 0.1, momentum, dampening, wd, nesterov, maximize)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for p, r in zip(ps, refs):
        assert p.dtype == dtype
        assert_close(p, r, rtol=tol, atol=tol)
    if momentum:
        for b, r in zip(bufs, ref_bufs):
            assert_close(b, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("wd,decoupled", [(0.0, False), (0.1, False), (0.1, True)])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_matches_pytorch_formula(wd, decoupled, amsgrad, maximize, dtype):
    ps = params(dtype)
    refs = [p.astype(np.float64) for p in ps]
    state = [[np.zeros_like(p) for p in ps] for _ in range(3)]
    ref_state = [[np.zeros_like(p) for p in refs] for _ in range(3)]
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8
    for step in range(1, 4):
        gs = grads_for(ps, step)
        _core.adam_step(ps, gs, state[0], state[1], state[2] if amsgrad else [None] * 3, lr, b1, b2,
                        eps, wd, decoupled, amsgrad, maximize, 1 - b1 ** step, 1 - b2 ** step)
        for i, (p, g) in enumerate(zip(refs, gs)):
            ref_adam(p, g.astype(np.float64), ref_state[0][i], ref_state[1][i], ref_state[2][i], step,
                     lr, b1, b2, eps, wd, decoupled, amsgrad, maximize)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(ps + state[0] + state[1], refs + ref_state[0] + ref_state[1]):
        assert_close(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("wd,maximize", [(0.0, False), (0.02, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsprop_matches_pytorch_formula(momentum, centered, wd, maximize, dtype):
    ps = params(dtype)
    refs = [p.astype(np.float64) for p in ps]
    sq = [np.zeros_like(p) for p in ps]
    bufs = [np.zeros_like(p) if momentum else None for p in ps]
    gavg = [np.zeros_like(p) if centered else None for p in ps]
    r_sq, r_buf, r_gavg = ([np.zeros_like(p) for p in refs] for _ in range(3))
    for step in range(3):
        gs = grads_for(ps, step)
        _core.rmsprop_step(ps, gs, sq, bufs, gavg, 0.01, 0.99, 1e-8, wd, momentum, centered, maximize)
        for i, (p, g) in enumerate(zip(refs, gs)):
            ref_rmsprop(p, g.astype(np.float64), r_sq[i], r_buf[i], r_gavg[i], 0.01, 0.99, 1e-8, wd,
                        momentum, centered, maximize)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for got, want in zip(ps + sq, refs + r_sq):
        assert_close(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("wd,maximize", [(0.0, False), (0.1, False), (0.1, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adagrad_matches_pytorch_formula(wd, maximize, dtype):
    ps = params(dtype)
    refs = [p.astype(np.float64) for p in ps]
    sums = [np.full_like(p, 0.1) for p in ps]
    r_sums = [s.astype(np.float64) for s in sums]
    lr, lr_decay = 0.1, 0.01
    for step in range(1, 4):
        clr = lr / (1 + (step - 1) * lr_decay)
        gs = grads_for(ps, step)
        _core.adagrad_step(ps, gs, sums, clr, wd, 1e-10, maximize)
        for p, g, s in zip(refs, gs, r_sums):
            ref_adagrad(p, g.astype(np.float64), s, clr, wd, 1e-10, maximize)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(ps + sums, refs + r_sums):
        assert_close(got, want, rtol=tol, atol=tol)


def _run_all(n, dtype):
    local = np.random.default_rng(0)
    p = [local.standard_normal(n).astype(dtype) for _ in range(4)]
    g = local.standard_normal(n).astype(dtype)
    z = lambda: np.zeros(n, dtype)
    s1, s2, s3 = [z(), z(), z()], [z(), z(), z()], [z(), z()]
    _core.sgd_step([p[0]], [g], [s1[0]], True, 0.1, 0.9, 0.0, 0.01, True, False)
    _core.adam_step([p[1]], [g], [s2[0]], [s2[1]], [s2[2]], 0.1, 0.9, 0.999, 1e-8, 0.01, True, True,
                    False, 0.1, 0.001)
    _core.rmsprop_step([p[2]], [g], [s3[0]], [s1[1]], [s1[2]], 0.01, 0.99, 1e-8, 0.0, 0.9, True, False)
    _core.adagrad_step([p[3]], [g], [s3[1]], 0.1, 0.0, 1e-10, False)
    return p + s1 + s2 + s3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_and_two_threads_identical(restore_threads, dtype):
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append(_run_all(100_003, dtype))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_strided_gradient_is_read_correctly():
    p1, p2 = np.ones((4, 3)), np.ones((4, 3))
    g = rng.standard_normal((3, 4)).T  # transposed
    _core.sgd_step([p1], [g], [None], False, 0.5, 0.0, 0.0, 0.0, False, False)
    _core.sgd_step([p2], [g.copy()], [None], False, 0.5, 0.0, 0.0, 0.0, False, False)
    np.testing.assert_array_equal(p1, p2)


def test_empty_parameter_and_empty_group():
    p = np.zeros((0, 3))
    _core.adam_step([p], [p.copy()], [p.copy()], [p.copy()], [None], 0.1, 0.9, 0.99, 1e-8, 0, False,
                    False, False, 0.1, 0.01)
    _core.sgd_step([], [], [], True, 0.1, 0.0, 0.0, 0.0, False, False)


def test_nan_gradient_propagates():
    p, g = np.zeros(3), np.array([0.0, np.nan, 1.0])
    _core.adam_step([p], [g], [np.zeros(3)], [np.zeros(3)], [None], 0.1, 0.9, 0.99, 1e-8, 0, False,
                    False, False, 0.1, 0.01)
    assert np.isnan(p[1]) and np.isfinite(p[[0, 2]]).all()


# ---------------------------------------------------------------- validation

def _adam(p, g, m, v):
    _core.adam_step([p], [g], [m], [v], [None], 0.1, 0.9, 0.99, 1e-8, 0.0, False, False, False,
                    0.1, 0.01)


def test_bad_state_leaves_everything_untouched():
    good, bad = np.ones(3), np.ones(3)
    before = good.copy()
    with pytest.raises(_core.ShapeError):
        _core.sgd_step([good, bad], [np.ones(3), np.ones(3)], [np.zeros(3), np.zeros(4)], False,
                       0.1, 0.9, 0.0, 0.0, False, False)
    np.testing.assert_array_equal(good, before)


def test_state_shape_errors():
    with pytest.raises(_core.ShapeError, match=r"adam: exp_avg_sq 0 has shape \(3, 2\).*\(2, 3\)"):
        _adam(np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(_core.ShapeError, match=r"adam: grad 0 has shape \(6,\).*\(2, 3\)"):
        _adam(np.ones((2, 3)), np.ones(6), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(_core.ShapeError, match="sgd: got 2 parameters but 1 grad entries"):
        _core.sgd_step([np.ones(2), np.ones(2)], [np.ones(2)], [None, None], False, 0.1, 0.0, 0.0,
                       0.0, False, False)


@pytest.mark.parametrize("make_bad,what", [
    (lambda: np.zeros((3, 2)).T, "non-contiguous"),
    (lambda: np.zeros((2, 6))[:, ::2], "non-contiguous"),
    (lambda: np.broadcast_to(np.zeros(3), (2, 3)), "read-only"),
])
def test_state_must_be_writeable_and_contiguous(make_bad, what):
    state = make_bad()
    with pytest.raises(ValueError, match=r"adam: exp_avg 0 must be a writeable C-contiguous array.*\(2, 3\)"):
        _adam(np.ones((2, 3)), np.ones((2, 3)), state, np.zeros((2, 3)))
    readonly = np.zeros((2, 3))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match=r"adagrad: param 0 must be a writeable C-contiguous array.*\(2, 3\)"):
        _core.adagrad_step([readonly], [np.ones((2, 3))], [np.zeros((2, 3))], 0.1, 0.0, 1e-10, False)


def test_dtype_errors_are_type_errors():
    with pytest.raises(TypeError, match=r"sgd: param 0 must be float32 or float64, got int64.*\(3,\)"):
        _core.sgd_step([np.ones(3, np.int64)], [np.ones(3)], [None], False, 0.1, 0.0, 0.0, 0.0,
                       False, False)
    with pytest.raises(TypeError, match=r"adam: grad 0 has dtype float32 but its parameter has float64.*\(3,\)"):
        _adam(np.ones(3), np.ones(3, np.float32), np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match=r"adam: exp_avg 0 has dtype int64"):
        _adam(np.ones(3), np.ones(3), np.zeros(3, np.int64), np.zeros(3))
    with pytest.raises(TypeError, match="sgd: param must be a numpy array"):
        _core.sgd_step([[1.0]], [np.ones(1)], [None], False, 0.1, 0.0, 0.0, 0.0, False, False)


def test_missing_required_state():
    with pytest.raises(ValueError, match=r"adam: max_exp_avg_sq 0 is missing"):
        _core.adam_step([np.ones(3)], [np.ones(3)], [np.zeros(3)], [np.zeros(3)], [None], 0.1, 0.9,
                        0.99, 1e-8, 0.0, False, True, False, 0.1, 0.01)
    with pytest.raises(ValueError, match=r"rmsprop: momentum_buffer 0 is missing"):
        _core.rmsprop_step([np.ones(3)], [np.ones(3)], [np.zeros(3)], [None], [None], 0.01, 0.99,
                           1e-8, 0.0, 0.9, False, False)
