"""Hypothesis strategies and settings shared by tests/test_properties_*.py: small random arrays
(empty and size-1 dimensions included) in float32 or float64, C-contiguous or strided views."""
import numpy as np
from hypothesis import HealthCheck, settings, strategies as st

import ember

# Deterministic and bounded: the same examples on every run, a few seconds per test at 1 thread.
BOUNDED = settings(derandomize=True, max_examples=30, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# The only exception kinds a bad argument may raise (ember.ShapeError is a ValueError).
EMBER_ERRORS = (ValueError, TypeError, IndexError, RuntimeError)

DTYPES = st.sampled_from([np.float32, np.float64])


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def arrays(draw, shape=None, dtype=None, low=-3.0, high=3.0, **shape_args):
    """A random array of `shape` (drawn if None); half the time a strided view of a larger
    array (a transposed or step-2 slice), which ember must copy, never misread."""
    shape = draw(shapes(**shape_args)) if shape is None else tuple(shape)
    dtype = draw(DTYPES) if dtype is None else dtype
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    layout = draw(st.sampled_from(["contiguous", "transposed", "strided"]))
    if layout == "transposed" and len(shape) >= 2:
        base = rng.uniform(low, high, shape[::-1]).astype(dtype)
        arr = base.transpose(tuple(range(len(shape)))[::-1])
    elif layout == "strided" and len(shape) >= 1:
        base = rng.uniform(low, high, shape[:-1] + (2 * shape[-1],)).astype(dtype)
        arr = base[..., ::2]
    else:
        arr = rng.uniform(low, high, shape).astype(dtype)
    assert arr.shape == shape
    return arr


def tensor(arr):
    """An ember tensor sharing `arr` (strides and all)."""
    return ember.from_numpy(arr)


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def assert_close(result, expected, dtype):
    got = result.detach().numpy() if hasattr(result, "detach") else np.asarray(result)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected.astype(got.dtype), **tolerance(dtype))
