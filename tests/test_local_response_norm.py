"""F.local_response_norm / nn.LocalResponseNorm against a direct NumPy loop and PyTorch, with
float64 finite-difference gradients."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck


def lrn_reference(x, size, alpha, beta, k):
    out = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1)
        window = (x[:, lo:hi] ** 2).sum(axis=1)
        out[:, c] = x[:, c] / (k + alpha / size * window) ** beta
    return out


CASES = [((2, 5, 4), 3), ((2, 6, 3, 3), 2), ((1, 4, 2, 2, 2), 5), ((2, 3, 4), 1), ((2, 3, 2), 7)]


@pytest.mark.parametrize("shape, size", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(shape, size, dtype):
    x = np.random.default_rng(0).standard_normal(shape) * 2
    got = F.local_response_norm(ember.tensor(x.astype(dtype)), size, alpha=0.5, beta=0.7, k=1.5)
    assert got.numpy().dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(got, lrn_reference(x, size, 0.5, 0.7, 1.5), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, size", CASES, ids=str)
def test_gradients_match_finite_differences(shape, size):
    x = ember.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.7, k=1.5), (x,))


def test_module_and_errors():
    m = nn.LocalResponseNorm(2)
    assert repr(m) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    assert list(m.parameters()) == []
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2"):
        m(ember.randn(3, 4))
    with pytest.raises(ValueError, match="LocalResponseNorm: size must be an integer >= 1"):
        nn.LocalResponseNorm(0)


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 7, 3, 3)).astype(np.float32)
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye = nn.LocalResponseNorm(3, alpha=0.2, beta=0.9, k=1.2)(xe)
    yt = torch.nn.LocalResponseNorm(3, alpha=0.2, beta=0.9, k=1.2)(xt)
    assert_close(ye, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_close(xe.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
