"""Property-based checks of the main public ops (issue 11 item 7): on random shapes (empty and
size-1 dimensions included), both float dtypes and strided inputs, ember's forward equals a
NumPy reference; random out-of-range arguments raise ember's errors, never anything else."""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
import ember.nn.functional as F
from property_strategies import (BOUNDED, DTYPES, EMBER_ERRORS, arrays, assert_close, shapes,
                                 tensor)

UNARY = {
    "exp": (ember.exp, np.exp), "tanh": (ember.tanh, np.tanh), "abs": (ember.abs, np.abs),
    "neg": (ember.neg, np.negative), "sin": (ember.sin, np.sin),
    "sigmoid": (ember.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "relu": (ember.relu, lambda a: np.maximum(a, 0)),
    "sqrt_abs": (lambda t: ember.sqrt(ember.abs(t)), lambda a: np.sqrt(np.abs(a))),
    "log1p_abs": (lambda t: ember.log1p(ember.abs(t)), lambda a: np.log1p(np.abs(a))),
}
BINARY = {
    "add": (ember.add, np.add), "sub": (ember.sub, np.subtract), "mul": (ember.mul, np.multiply),
    "maximum": (ember.maximum, np.maximum), "minimum": (ember.minimum, np.minimum),
    "div": (lambda a, b: ember.div(a, ember.abs(b) + 1), lambda a, b: a / (np.abs(b) + 1)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@BOUNDED
@given(a=arrays())
def test_unary_matches_numpy(name, a):
    ours, reference = UNARY[name]
    assert_close(ours(tensor(a)), reference(a), a.dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
@BOUNDED
@given(data=st.data(), shapes_=mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                             max_side=3), dtype=DTYPES)
def test_broadcasting_binary_matches_numpy(name, data, shapes_, dtype):
    a = data.draw(arrays(shape=shapes_.input_shapes[0], dtype=dtype))
    b = data.draw(arrays(shape=shapes_.input_shapes[1], dtype=dtype))
    ours, reference = BINARY[name]
    assert_close(ours(tensor(a), tensor(b)), reference(a, b), dtype)


@BOUNDED
@given(data=st.data(), a_shape=shapes(2, 2, 1), b_shape=shapes(2, 2, 1))
def test_non_broadcasting_shapes_raise_an_ember_error(data, a_shape, b_shape):
    try:
        np.broadcast_shapes(a_shape, b_shape)
        assume(False)
    except ValueError:
        pass
    with pytest.raises(ValueError, match="add"):
        ember.add(tensor(data.draw(arrays(shape=a_shape))),
                  tensor(data.draw(arrays(shape=b_shape))))


REDUCTIONS = {"sum": (ember.sum, np.sum), "mean": (ember.mean, np.mean),
              "amax": (ember.amax, np.max), "prod": (ember.prod, np.prod)}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@BOUNDED
@given(a=arrays(min_dims=1), data=st.data(), keepdim=st.booleans())
def test_reductions_over_a_dim_match_numpy(name, a, data, keepdim):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    ours, reference = REDUCTIONS[name]
    if name == "amax" and a.shape[dim] == 0:  # PyTorch refuses the max of nothing, as NumPy
        with pytest.raises(IndexError, match="Expected reduction dim"):
            ours(tensor(a), dim, keepdim)
        return
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns of the mean of nothing
        expected = reference(a, axis=dim, keepdims=keepdim)
    assert_close(ours(tensor(a), dim, keepdim), expected, a.dtype)


@BOUNDED
@given(a=arrays(max_dims=3), data=st.data())
def test_any_dim_either_matches_numpy_or_raises_index_error(a, data):
    dim = data.draw(st.integers(-6, 6))
    n = max(a.ndim, 1)
    if -n <= dim < n:
        expected = np.sum(a, axis=dim % n) if a.ndim else a
        assert_close(ember.sum(tensor(a), dim), expected, a.dtype)
    else:
        with pytest.raises(IndexError, match="Dimension out of range"):
            ember.sum(tensor(a), dim)
        with pytest.raises(IndexError, match="Dimension out of range"):
            ember.softmax(tensor(a), dim)
        with pytest.raises(IndexError, match="Dimension out of range"):
            ember.cat([tensor(a), tensor(a)], dim)


@BOUNDED
@given(data=st.data(), n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4),
       batch=shapes(0, 2, 1, 3), dtype=DTYPES)
def test_matmul_matches_numpy(data, n, k, m, batch, dtype):
    a = data.draw(arrays(shape=batch + (n, k), dtype=dtype))
    b = data.draw(arrays(shape=(k, m), dtype=dtype))
    assert_close(ember.matmul(tensor(a), tensor(b)), np.matmul(a, b), dtype)


@BOUNDED
@given(data=st.data(), n=st.integers(1, 3), k=st.integers(1, 3), k2=st.integers(1, 3))
def test_matmul_of_mismatched_inner_sizes_raises(data, n, k, k2):
    assume(k != k2)
    with pytest.raises(EMBER_ERRORS):
        ember.matmul(tensor(data.draw(arrays(shape=(n, k)))),
                     tensor(data.draw(arrays(shape=(k2, n)))))


def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True)) if a.shape[axis] else np.exp(a)
    return e / np.sum(e, axis=axis, keepdims=True)


@BOUNDED
@given(a=arrays(min_dims=1), data=st.data(), log=st.booleans())
def test_softmax_matches_numpy(a, data, log):
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    with np.errstate(divide="ignore"):
        expected = np.log(_softmax(a, dim)) if log else _softmax(a, dim)
    result = (F.log_softmax if log else F.softmax)(tensor(a), dim=dim)
    assert_close(result, expected, a.dtype)


@BOUNDED
@given(data=st.data(), n=st.integers(1, 5), c=st.integers(1, 5), dtype=DTYPES,
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_and_mse_match_numpy(data, n, c, dtype, reduction):
    logits = data.draw(arrays(shape=(n, c), dtype=dtype))
    target = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    logp = np.log(_softmax(logits, 1))
    losses = -logp[np.arange(n), target]
    expected = {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]
    result = F.cross_entropy(tensor(logits), ember.tensor(target), reduction=reduction)
    assert_close(result, expected, dtype)
    other = data.draw(arrays(shape=(n, c), dtype=dtype))
    sq = (logits - other) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    assert_close(F.mse_loss(tensor(logits), tensor(other), reduction=reduction), expected, dtype)


@BOUNDED
@given(data=st.data(), n=st.integers(1, 3), c=st.integers(1, 4))
def test_cross_entropy_with_an_out_of_range_class_raises(data, n, c):
    logits = data.draw(arrays(shape=(n, c)))
    bad = data.draw(st.one_of(st.integers(c, c + 5), st.integers(-5, -1)))
    target = np.zeros(n, np.int64)
    target[data.draw(st.integers(0, n - 1))] = bad
    with pytest.raises(EMBER_ERRORS):
        F.cross_entropy(tensor(logits), ember.tensor(target))


def _conv2d(x, w, b, stride, padding):
    """Direct-loop reference (NCHW, weight (out, in, kh, kw))."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@BOUNDED
@given(data=st.data(), n=st.integers(1, 2), cin=st.integers(1, 3), cout=st.integers(1, 3),
       h=st.integers(1, 6), w=st.integers(1, 6), k=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.integers(0, 1), dtype=DTYPES)
def test_conv2d_matches_a_direct_loop(data, n, cin, cout, h, w, k, stride, padding, dtype):
    assume(h + 2 * padding >= k and w + 2 * padding >= k)
    x = data.draw(arrays(shape=(n, cin, h, w), dtype=dtype))
    weight = data.draw(arrays(shape=(cout, cin, k, k), dtype=dtype))
    bias = data.draw(arrays(shape=(cout,), dtype=dtype))
    result = F.conv2d(tensor(x), tensor(weight), tensor(bias), stride=stride, padding=padding)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(result.numpy(), _conv2d(x, weight, bias, stride, padding), **tol)


@BOUNDED
@given(data=st.data(), h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 3),
       stride=st.integers(1, 3), kind=st.sampled_from(["max", "avg"]))
def test_pool2d_matches_a_direct_loop(data, h, w, k, stride, kind):
    assume(h >= k and w >= k)
    x = data.draw(arrays(shape=(2, 2, h, w)))
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    reduce = np.max if kind == "max" else np.mean
    expected = np.array([[[[reduce(x[a, c, i * stride:i * stride + k, j * stride:j * stride + k])
                            for j in range(ow)] for i in range(oh)] for c in range(2)]
                         for a in range(2)])
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    assert_close(pool(tensor(x), k, stride), expected, x.dtype)


@BOUNDED
@given(data=st.data(), h=st.integers(1, 4), k=st.integers(1, 8), padding=st.integers(-2, 8),
       stride=st.integers(-1, 3))
def test_conv_and_pool_geometry_errors_are_ember_errors(data, h, k, padding, stride):
    x = tensor(data.draw(arrays(shape=(1, 1, h, h))))
    weight = tensor(data.draw(arrays(shape=(1, 1, k, k))))
    for call in (lambda: F.conv2d(x, weight, padding=padding, stride=stride),
                 lambda: F.max_pool2d(x, k, stride=stride, padding=padding),
                 lambda: F.avg_pool2d(x, k, stride=stride, padding=padding)):
        try:
            out = call()
        except EMBER_ERRORS:
            continue
        assert all(s >= 1 for s in out.shape)  # accepted: a real, non-empty result


SHAPE_OPS = {
    "transpose": (lambda t: ember.transpose(t, 0, -1), lambda a: np.swapaxes(a, 0, -1)),
    "flip": (lambda t: ember.flip(t, (0,)), lambda a: np.flip(a, 0)),
    "flatten": (ember.flatten, lambda a: a.reshape(-1)),
    "unsqueeze_squeeze": (lambda t: ember.squeeze(ember.unsqueeze(t, 1), 1), lambda a: a),
    "cat": (lambda t: ember.cat([t, t], 0), lambda a: np.concatenate([a, a], 0)),
    "stack": (lambda t: ember.stack([t, t], -1), lambda a: np.stack([a, a], -1)),
    "permute": (lambda t: t.permute(*reversed(range(t.ndim))), lambda a: a.transpose()),
    "reshape": (lambda t: t.reshape(-1, 1), lambda a: a.reshape(-1, 1)),
    "cumsum": (lambda t: ember.cumsum(t, 0), lambda a: np.cumsum(a, 0)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@BOUNDED
@given(a=arrays(min_dims=1))
def test_shape_ops_match_numpy(name, a):
    ours, reference = SHAPE_OPS[name]
    assert_close(ours(tensor(a)), reference(a), a.dtype)


@BOUNDED
@given(a=arrays(min_dims=1, max_dims=3), target=st.lists(st.integers(-2, 6), min_size=0,
                                                         max_size=4))
def test_reshape_to_a_random_shape_matches_numpy_or_raises(a, target):
    try:
        expected = a.reshape(target)
    except ValueError:
        with pytest.raises(EMBER_ERRORS):
            tensor(a).reshape(*target)
        return
    assert_close(tensor(a).reshape(*target), expected, a.dtype)
