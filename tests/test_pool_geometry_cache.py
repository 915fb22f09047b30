"""F.max_pool2d keeps the checked geometry of recent calls: the cache must never let a bad
argument through or hand one call another's geometry."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F


def _reference_max_pool(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


def test_a_float_kernel_size_is_refused_after_the_same_int_call():
    x = ember.randn(1, 2, 6, 6)
    F.max_pool2d(x, 2)
    with pytest.raises(ValueError, match="max_pool2d: kernel_size must be an int"):
        F.max_pool2d(x, 2.0)
    with pytest.raises(ValueError, match="max_pool2d: kernel_size must be an int"):
        F.max_pool2d(x, (2, 2.0))


def test_each_shape_and_argument_gets_its_own_geometry():
    rng = np.random.default_rng(0)
    for shape in [(1, 2, 6, 6), (2, 3, 7, 9), (1, 2, 6, 6)]:
        a = rng.standard_normal(shape).astype(np.float32)
        for k, s in [(2, None), (3, None), (2, 1), (3, 2), (2, None)]:
            got = F.max_pool2d(ember.tensor(a), k, s).numpy()
            np.testing.assert_array_equal(got, _reference_max_pool(a, k, s or k))


def test_a_module_whose_arguments_change_uses_the_new_ones():
    a = np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6)
    pool = ember.nn.MaxPool2d(2)
    assert pool(ember.tensor(a)).shape == (1, 1, 3, 3)
    pool.kernel_size, pool.stride = 3, 3
    np.testing.assert_array_equal(pool(ember.tensor(a)).numpy(), _reference_max_pool(a, 3, 3))


def test_a_kernel_larger_than_the_input_is_still_refused():
    F.max_pool2d(ember.randn(1, 1, 4, 4), 2)
    with pytest.raises(ember._core.ShapeError, match="larger than the padded input"):
        F.max_pool2d(ember.randn(1, 1, 1, 1), 2)
