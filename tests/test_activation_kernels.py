"""ember._core activation and softmax kernels against NumPy, finite differences and each other."""
import math

import numpy as np
import pytest

from ember import _core
from ember.testing import assert_close, numerical_jacobian

rng = np.random.default_rng(99)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _softplus(x, beta, threshold):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)


# name -> (alpha, beta, NumPy reference, backward reads the output)
ACTIVATIONS = {
    "relu": (0.0, 0.0, lambda x: np.maximum(x, 0), False),
    "leaky_relu": (0.01, 0.0, lambda x: np.where(x > 0, x, 0.01 * x), False),
    "elu": (1.3, 0.0, lambda x: np.where(x > 0, x, 1.3 * np.expm1(np.minimum(x, 0))), False),
    "gelu": (0.0, 0.0, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), False),
    "gelu_tanh": (0.0, 0.0, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                             * (x + 0.044715 * x ** 3))), False),
    "sigmoid": (0.0, 0.0, lambda x: 0.5 * (1 + np.tanh(x / 2)), True),
    "tanh": (0.0, 0.0, np.tanh, True),
    "softplus": (1.0, 20.0, lambda x: _softplus(x, 1.0, 20.0), False),
    "softplus_beta2": (2.0, 5.0, lambda x: _softplus(x, 2.0, 5.0), False),
}


def kernel(name, direction):
    return getattr(_core, f"{name.replace('_beta2', '')}_{direction}")


def forward(name, x):
    alpha, beta, _, _ = ACTIVATIONS[name]
    return kernel(name, "forward")(x, alpha, beta)


def backward(name, g, x):
    alpha, beta, _, uses_output = ACTIVATIONS[name]
    saved = forward(name, x) if uses_output else x
    return kernel(name, "backward")(g, saved, alpha, beta)


def points(dtype=np.float64):
    # Away from kinks (0) and the softplus threshold so finite differences are meaningful.
    x = rng.uniform(-4, 4, size=(5, 7))
    x[np.abs(x) < 0.05] += 0.2
    x[np.abs(x * 2 - 5) < 0.05] += 0.2
    return x.astype(dtype)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(name, dtype):
    x = points(dtype)
    out = forward(name, x)
    assert out.dtype == dtype and out.shape == x.shape
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert_close(out, ACTIVATIONS[name][2](x.astype(np.float64)), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_matches_finite_differences(name):
    x, g = points(), rng.standard_normal((5, 7))
    numeric = numerical_jacobian(lambda x_: float((forward(name, x_) * g).sum()), [x], 0)
    assert_close(backward(name, g, x), numeric.reshape(x.shape), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float32_agrees_with_float64(name):
    x, g = points(), rng.standard_normal((5, 7))
    f64, b64 = forward(name, x), backward(name, g, x)
    x32, g32 = x.astype(np.float32), g.astype(np.float32)
    assert_close(forward(name, x32), f64, rtol=1e-5, atol=1e-6)
    assert_close(backward(name, g32, x32), b64, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_one_and_two_threads_identical(restore_threads, name):
    x = rng.standard_normal(50_001) * 3  # odd length: chunks start unaligned
    g = rng.standard_normal(50_001)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append((forward(name, x), backward(name, g, x)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_non_contiguous_input_matches_copy(name):
    x = rng.standard_normal((6, 8)).T[::2]  # transposed and sliced
    g = rng.standard_normal((8, 6))[1::2]
    np.testing.assert_array_equal(forward(name, x), forward(name, x.copy()))
    np.testing.assert_array_equal(backward(name, g, x), backward(name, g.copy(), x.copy()))


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 5), (3, 0, 2)])
def test_empty_input(name, shape):
    x = np.zeros(shape)
    assert forward(name, x).shape == shape
    assert backward(name, x, x).shape == shape


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_propagates(name, dtype):
    x = np.array([np.nan, 1.0, -1.0, np.nan] * 5, dtype=dtype)  # long enough for a SIMD packet
    out = forward(name, x)
    assert np.isnan(out[::4]).all() and np.isnan(out[3::4]).all(), out
    assert not np.isnan(out[1::4]).any()


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite(name, dtype):
    x = np.array([-1e4, -100, 100, 1e4] * 4, dtype=dtype)
    out = forward(name, x)
    assert np.isfinite(out).all(), out
    assert_close(out, ACTIVATIONS[name][2](x.astype(np.float64)), rtol=1e-6, atol=1e-30)
    grad = backward(name, np.ones_like(x), x)
    assert np.isfinite(grad).all(), grad


# ---------------------------------------------------------------- softmax family

def np_log_softmax(x, dim):
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


SOFTMAXES = {"softmax": lambda x, d: np.exp(np_log_softmax(x, d)), "log_softmax": np_log_softmax}


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_forward_matches_numpy(name, dim, dtype):
    x = (rng.standard_normal((3, 4, 5)) * 3).astype(dtype)
    out = getattr(_core, f"{name}_forward")(x, dim)
    assert out.dtype == dtype
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert_close(out, SOFTMAXES[name](x.astype(np.float64), dim), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_softmax_backward_matches_finite_differences(name, dim):
    x, g = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    fwd = getattr(_core, f"{name}_forward")
    numeric = numerical_jacobian(lambda x_: float((fwd(x_, dim) * g).sum()), [x], 0)
    got = getattr(_core, f"{name}_backward")(g, fwd(x, dim), dim)
    assert_close(got, numeric.reshape(x.shape), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_threads_and_strides(restore_threads, name):
    x, g = rng.standard_normal((300, 7, 40)), rng.standard_normal((300, 7, 40))
    fwd, bwd = getattr(_core, f"{name}_forward"), getattr(_core, f"{name}_backward")
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y = fwd(x, 1)
        results.append((y, bwd(g, y, 1)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    xt = x.transpose(2, 0, 1)
    np.testing.assert_array_equal(fwd(xt, -1), fwd(xt.copy(), -1))


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_extreme_logits_stay_finite(name, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    out = getattr(_core, f"{name}_forward")(x, 1)
    expected = SOFTMAXES[name](x.astype(np.float64), 1)
    if name == "softmax":
        assert np.isfinite(out).all()
        assert_close(out, expected, rtol=1e-6, atol=1e-30)
    else:  # log-probabilities of -2e4 are finite; exactly what PyTorch returns
        assert np.isfinite(out).all()
        assert_close(out, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_nan_and_empty(name):
    fwd = getattr(_core, f"{name}_forward")
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    out = fwd(x, 1)
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert fwd(np.zeros((0, 4)), 1).shape == (0, 4)
    assert fwd(np.zeros((3, 0)), 1).shape == (3, 0)


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("name", ["relu", "sigmoid", "softplus"])
def test_activation_backward_shape_mismatch(name):
    with pytest.raises(_core.ShapeError, match=rf"{name}_backward.*\(2, 3\).*\(3, 2\)"):
        getattr(_core, f"{name}_backward")(np.ones((2, 3)), np.ones((3, 2)), 1.0, 20.0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.float16])
def test_activation_rejects_non_float(dtype):
    with pytest.raises(TypeError, match=r"relu_forward.*\(2, 3\)"):
        _core.relu_forward(np.ones((2, 3), dtype=dtype))
    with pytest.raises(TypeError, match=r"softmax.*\(2, 3\)"):
        _core.softmax_forward(np.ones((2, 3), dtype=dtype), 1)


def test_activation_rejects_mixed_float_dtypes():
    with pytest.raises(TypeError, match=r"tanh_backward.*float32.*\(2, 3\)"):
        _core.tanh_backward(np.ones((2, 3)), np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"softmax_backward.*float64.*\(2, 3\)"):
        _core.softmax_backward(np.ones((2, 3), np.float32), np.ones((2, 3)), 1)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_bad_dim_and_ndim(name):
    # A dim out of range is an IndexError, as in PyTorch (and still a ValueError).
    with pytest.raises(_core.IndexOutOfRangeError, match=rf"{name}: Dimension out of range "
                                                         rf"\(.*\[-2, 1\], but got 2\).*\(2, 3\)"):
        getattr(_core, f"{name}_forward")(np.ones((2, 3)), 2)
    with pytest.raises(_core.IndexOutOfRangeError, match=rf"{name}: .*but got -3\).*\(2, 3\)"):
        getattr(_core, f"{name}_forward")(np.ones((2, 3)), -3)
    with pytest.raises(_core.ShapeError, match=rf"{name}.*\(\)"):
        getattr(_core, f"{name}_forward")(np.array(1.0), 0)
    with pytest.raises(_core.ShapeError, match=rf"{name}_backward.*\(2, 3\).*\(3, 2\)"):
        getattr(_core, f"{name}_backward")(np.ones((2, 3)), np.ones((3, 2)), 1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_do_not_depend_on_alignment(name, dtype):
    # The same rows at every offset from a 64-byte boundary give bitwise the same results (a
    # vector loop peeled for alignment would send different elements to a scalar tail).
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((5, 37)).astype(dtype)
    rows[1, 30:] = -np.inf  # masked keys, as in causal attention
    grad = rng.standard_normal((5, 37)).astype(dtype)
    forward = getattr(_core, f"{name}_forward")
    backward = getattr(_core, f"{name}_backward")
    results = []
    for offset in range(16):
        buffer = np.empty(rows.size * 2 + offset + 64, dtype)
        x = buffer[offset:offset + rows.size].reshape(rows.shape)
        x[...] = rows
        y = forward(x, -1)
        results.append((y, backward(grad, y, -1)))
    for y, g in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(g, results[0][1])
