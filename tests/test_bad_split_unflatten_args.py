"""Arguments PyTorch refuses and ember used to turn into wrong results: unflatten with an
out-of-range dim or sizes that do not multiply up, split with a negative or zero size, hardtanh
with min_val > max_val."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F


def test_unflatten_checks_its_dim_and_sizes():
    a = ember.randn(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        a.unflatten(3, (1, 3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        a.unflatten(-3, (1, 2))
    with pytest.raises(ember._core.ShapeError, match=r"unflatten: sizes \[2, 2\] don't multiply"):
        a.unflatten(1, (2, 2))
    with pytest.raises(ember._core.ShapeError, match="unflatten"):
        a.unflatten(1, (-1, -1))
    assert a.unflatten(1, (-1, 1)).shape == (2, 3, 1)
    assert a.unflatten(-1, (3, 1)).shape == (2, 3, 1)
    np.testing.assert_array_equal(a.unflatten(0, (1, 2)).numpy(), a.numpy().reshape(1, 2, 3))


def test_split_refuses_a_negative_or_zero_size():
    a = ember.randn(2, 5)
    for size in (-7, 0):
        with pytest.raises(ValueError, match="split: split_size must be positive"):
            ember.split(a, size, dim=1)
    with pytest.raises(ValueError, match="split: sections must be non-negative"):
        ember.split(a, [6, -1], dim=1)
    assert [t.shape[1] for t in ember.split(a, 2, dim=1)] == [2, 2, 1]
    assert [t.shape for t in ember.split(ember.randn(0, 3), 0)] == [(0, 3)]


def test_hardtanh_refuses_min_above_max():
    with pytest.raises(ValueError, match="hardtanh: min_val cannot be greater than max_val"):
        F.hardtanh(ember.randn(3), 1.0, -1.0)
    np.testing.assert_array_equal(F.hardtanh(ember.tensor([-3.0, 0.5, 3.0]), -1.0, 1.0).numpy(),
                                  np.array([-1.0, 0.5, 1.0], np.float32))
