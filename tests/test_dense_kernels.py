"""ember._core dense kernels (matmul, linear) against NumPy, finite differences and each other."""
import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(1234)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- forward vs NumPy

@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((2, 3, 4), (2, 4, 6)),
                                    ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((3, 4), (4, 0))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_forward_matches_numpy(shapes, dtype):
    a, b = randn(*shapes[0], dtype=dtype), randn(*shapes[1], dtype=dtype)
    out = _core.matmul_forward(a, b)
    assert out.dtype == dtype
    assert_close(out, a.astype(np.float64) @ b.astype(np.float64),
                 rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("n,fin,fout", [(5, 3, 4), (1, 7, 1), (0, 3, 4), (4, 0, 3), (16, 33, 17)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_forward_matches_numpy(n, fin, fout, bias, dtype):
    x, w = randn(n, fin, dtype=dtype), randn(fout, fin, dtype=dtype)
    b = randn(fout, dtype=dtype) if bias else None
    out = _core.linear_forward(x, w, b)
    expected = x.astype(np.float64) @ w.astype(np.float64).T
    if bias:
        expected = expected + b
    assert out.dtype == dtype and out.shape == (n, fout)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(out, expected, rtol=tol, atol=tol)


# ---------------------------------------------------------------- backward vs finite differences

@pytest.mark.parametrize("batched", [False, True])
def test_matmul_backward_matches_finite_differences(batched):
    a, b = (randn(2, 3, 4), randn(2, 4, 2)) if batched else (randn(3, 4), randn(4, 2))
    g = randn(*_core.matmul_forward(a, b).shape)
    ga, gb = _core.matmul_backward(g, a, b, True, True)
    project = lambda a_, b_: float((_core.matmul_forward(a_, b_) * g).sum())
    assert_close(ga, numerical_jacobian(project, [a, b], 0).reshape(a.shape), rtol=1e-7, atol=1e-8)
    assert_close(gb, numerical_jacobian(project, [a, b], 1).reshape(b.shape), rtol=1e-7, atol=1e-8)


def test_matmul_backward_returns_none_for_unneeded_grads():
    a, b = randn(3, 4), randn(4, 2)
    g = randn(3, 2)
    ga, gb = _core.matmul_backward(g, a, b, False, True)
    assert ga is None and gb.shape == (4, 2)
    ga, gb = _core.matmul_backward(g, a, b, True, False)
    assert gb is None and ga.shape == (3, 4)


@pytest.mark.parametrize("n", [4, 1, 0])
def test_linear_backward_matches_finite_differences(n):
    x, w, b = randn(n, 3), randn(5, 3), randn(5)
    g = randn(n, 5)
    gi, gw, gb = _core.linear_backward(g, x, w, True, True, True)
    project = lambda x_, w_, b_: float((_core.linear_forward(x_, w_, b_) * g).sum())
    for got, k, shape in [(gi, 0, x.shape), (gw, 1, w.shape), (gb, 2, b.shape)]:
        assert got.shape == shape
        assert_close(got, numerical_jacobian(project, [x, w, b], k).reshape(shape),
                     rtol=1e-7, atol=1e-8)


def test_linear_backward_computes_only_requested():
    x, w, g = randn(4, 3), randn(5, 3), randn(4, 5)
    gi, gw, gb = _core.linear_backward(g, x, w, False, True, False)
    assert gi is None and gb is None and gw.shape == (5, 3)


# ---------------------------------------------------------------- float32 vs float64

def test_float32_agrees_with_float64():
    x, w, b = randn(64, 40), randn(30, 40), randn(30)
    g = randn(64, 30)
    f64 = _core.linear_forward(x, w, b)
    f32 = _core.linear_forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32))
    assert_close(f32, f64, rtol=1e-4, atol=1e-4)
    grads64 = _core.linear_backward(g, x, w, True, True, True)
    grads32 = _core.linear_backward(*(a.astype(np.float32) for a in (g, x, w)), True, True, True)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        assert_close(g32, g64, rtol=1e-4, atol=1e-3)
    a, bb = randn(3, 20, 30), randn(3, 30, 10)
    assert_close(_core.matmul_forward(a.astype(np.float32), bb.astype(np.float32)),
                 _core.matmul_forward(a, bb), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- threads

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_matmul_and_bias_grad_identical_with_one_and_two_threads(restore_threads, dtype):
    # Batched products split the batch over threads (one single-threaded GEMM each) and the bias
    # gradient sums each column in a fixed order: both must be bitwise reproducible.
    a, b = randn(8, 64, 64, dtype=dtype), randn(8, 64, 64, dtype=dtype)
    g = randn(512, 96, dtype=dtype)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        assert _core.get_num_threads() == threads
        results.append([_core.matmul_forward(a, b), *_core.matmul_backward(a, a, b),
                        _core.linear_backward(g, randn(512, 4, dtype=dtype)[:0].reshape(512, 0),
                                              randn(96, 0, dtype=dtype), False, False, True)[2]])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_gemm_agrees_with_one_and_two_threads(restore_threads, dtype):
    # One large GEMM is threaded inside Eigen, whose k-blocking depends on the thread count, so
    # the last bits may differ (the summation order changes): compare to a few ulps.
    x, w, bias = randn(256, 128, dtype=dtype), randn(96, 128, dtype=dtype), randn(96, dtype=dtype)
    g = randn(256, 96, dtype=dtype)
    a, b = randn(200, 150, dtype=dtype), randn(150, 120, dtype=dtype)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append([_core.linear_forward(x, w, bias), *_core.linear_backward(g, x, w),
                        _core.matmul_forward(a, b)])
    tol = 1e-5 if dtype == np.float32 else 1e-13
    for one, two in zip(*results):
        assert_close(one, two, rtol=tol, atol=tol * 10)


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="set_num_threads"):
        _core.set_num_threads(0)


# ---------------------------------------------------------------- non-contiguous inputs

def test_transposed_and_sliced_inputs_match_contiguous_copies():
    a = randn(6, 4).T          # (4, 6), Fortran order
    b = randn(6, 10)[:, ::2]   # (6, 5), strided
    np.testing.assert_array_equal(_core.matmul_forward(a, b),
                                  _core.matmul_forward(a.copy(), b.copy()))
    x, w = randn(3, 8)[:, 1::2], randn(4, 8)[:, ::2].T  # x (3, 4), w (4, 4), both strided
    bias = randn(8)[::2]
    np.testing.assert_array_equal(_core.linear_forward(x, w, bias),
                                  _core.linear_forward(x.copy(), w.copy(), bias.copy()))
    g = randn(4, 3).T
    for got, want in zip(_core.linear_backward(g, x, w), _core.linear_backward(g.copy(), x.copy(), w.copy())):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- NaN

def test_nan_propagates():
    x, w = randn(2, 3), randn(4, 3)
    x[1, 2] = np.nan
    out = _core.linear_forward(x, w, None)
    assert np.isnan(out[1]).all() and np.isfinite(out[0]).all()
    a = randn(2, 2)
    a[0, 0] = np.nan
    assert np.isnan(_core.matmul_forward(a, randn(2, 2))[0]).all()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("a_shape,b_shape,fragment", [
    ((3,), (3, 2), "(3,)"), ((2, 3), (4, 2), "(2, 3) @ (4, 2)"), ((2, 2, 3), (3, 3, 2), "(2, 2, 3)"),
    ((2, 3), (1, 3, 2), "(2, 3)"), ((1, 2, 2, 2), (1, 2, 2, 2), "(1, 2, 2, 2)")])
def test_matmul_shape_errors(a_shape, b_shape, fragment):
    with pytest.raises(_core.ShapeError, match="matmul") as info:
        _core.matmul_forward(randn(*a_shape), randn(*b_shape))
    assert fragment in str(info.value)
    assert issubclass(_core.ShapeError, ValueError)


def test_matmul_backward_grad_shape_error():
    with pytest.raises(_core.ShapeError, match=r"matmul_backward.*\(3, 3\).*\(3, 4\).*\(4, 2\)"):
        _core.matmul_backward(randn(3, 3), randn(3, 4), randn(4, 2))


@pytest.mark.parametrize("x_shape,w_shape,b_shape,fragments", [
    ((4,), (2, 4), None, ["(4,)", "(2, 4)"]),
    ((3, 4), (2, 5), None, ["(3, 4)", "(2, 5)"]),
    ((3, 4), (2, 4, 1), None, ["(3, 4)", "(2, 4, 1)"]),
    ((3, 4), (2, 4), (3,), ["(2, 4)", "(3,)"]),
    ((3, 4), (2, 4), (2, 1), ["(2, 4)", "(2, 1)"]),
])
def test_linear_shape_errors(x_shape, w_shape, b_shape, fragments):
    b = None if b_shape is None else randn(*b_shape)
    with pytest.raises(_core.ShapeError, match="linear") as info:
        _core.linear_forward(randn(*x_shape), randn(*w_shape), b)
    for f in fragments:
        assert f in str(info.value)


def test_linear_backward_grad_shape_error():
    with pytest.raises(_core.ShapeError, match=r"linear_backward.*\(3, 3\).*\(3, 2\)"):
        _core.linear_backward(randn(3, 3), randn(3, 4), randn(2, 4))


@pytest.mark.parametrize("call", [
    lambda: _core.matmul_forward(randn(2, 3, dtype=np.float32), randn(3, 2)),
    lambda: _core.matmul_forward(randn(2, 3), randn(3, 2, dtype=np.float32)),
    lambda: _core.linear_forward(randn(2, 3, dtype=np.float32), randn(4, 3), None),
    lambda: _core.linear_forward(randn(2, 3), randn(4, 3), randn(4, dtype=np.float32)),
    lambda: _core.linear_backward(randn(2, 4, dtype=np.float32), randn(2, 3), randn(4, 3)),
    lambda: _core.matmul_backward(randn(2, 2), randn(2, 3, dtype=np.float32), randn(3, 2)),
])
def test_mixed_float_dtypes_raise_type_error(call):
    with pytest.raises(TypeError, match=r"(matmul|linear).*float.*shape \("):
        call()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float16, np.complex128])
def test_non_float_dtypes_raise_type_error(dtype):
    x = np.ones((2, 3), dtype=dtype)
    with pytest.raises(TypeError, match=r"linear.*\(2, 3\)"):
        _core.linear_forward(x, np.ones((4, 3)), None)
    with pytest.raises(TypeError, match=r"matmul.*\(2, 3\)"):
        _core.matmul_forward(x, np.ones((3, 2), dtype=dtype))


def test_non_array_input_raises_type_error():
    with pytest.raises(TypeError, match="linear: input must be a numpy array"):
        _core.linear_forward([[1.0, 2.0]], np.ones((1, 2)), None)
