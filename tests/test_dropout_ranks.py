"""Channel dropout on every input rank as PyTorch 2.13 handles it (which axes share one draw,
which ranks warn), Dropout3d, and alpha dropout (AlphaDropout, FeatureAlphaDropout): the law
of the output against PyTorch's, gradients, and eval mode."""
import math
import re

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

DEPRECATED = "which is deprecated and will result in an error"
AS_NCL = r"interpreted as shape \(N, C, L\)"

# (op name, input shape, warnings expected, axes that get their own draws)
CASES = [
    ("dropout2d", (24, 24, 3, 2), [], (0, 1)),
    ("dropout2d", (24, 24, 3), [AS_NCL], (0, 1)),          # (N, C, L), not (C, H, W)
    ("dropout2d", (24, 24), [DEPRECATED], (0, 1)),          # one draw per element
    ("dropout2d", (24, 24, 2, 2, 2), [DEPRECATED], (0, 1)),
    ("dropout3d", (24, 24, 2, 2, 2), [], (0, 1)),
    ("dropout3d", (24, 3, 2, 2), [], (0,)),                 # unbatched (C, D, H, W)
    ("dropout3d", (24, 3, 2), [DEPRECATED], (0,)),          # taken as unbatched too
    ("dropout1d", (24, 24, 3), [], (0, 1)),
    ("dropout1d", (24, 3), [], (0,)),
]


def varying_axes(y):
    """The axes along which y is not constant."""
    return tuple(a for a in range(y.ndim) if not np.all(y == y.take([0], axis=a)))


def call(fn, x, expected_warnings, **kwargs):
    if not expected_warnings:
        return fn(x, **kwargs)
    with pytest.warns(UserWarning) as record:
        out = fn(x, **kwargs)
    messages = [str(w.message) for w in record]
    for pattern in expected_warnings:
        assert any(re.search(pattern, m) for m in messages), messages
    return out


@pytest.mark.parametrize("name, shape, warns, axes", CASES, ids=str)
def test_which_axes_get_their_own_draws(name, shape, warns, axes):
    ember.manual_seed(0)
    x = ember.ones(*shape, dtype=ember.float64, requires_grad=True)
    y = call(getattr(F, name), x, warns, p=0.5)
    assert varying_axes(y.detach().numpy()) == axes
    assert set(np.unique(y.detach().numpy())) == {0.0, 2.0}
    y.sum().backward()
    assert_close(x.grad, y.detach())  # the gradient is the scaled mask


@pytest.mark.parametrize("name, shape, warns, axes", CASES, ids=str)
def test_same_axes_and_warnings_as_pytorch(name, shape, warns, axes):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = call(getattr(torch.nn.functional, name), torch.ones(shape), warns, p=0.5)
    assert varying_axes(theirs.numpy()) == axes


def test_eval_mode_still_warns_and_returns_the_input():
    x = ember.randn(4, 3)
    with pytest.warns(UserWarning, match=DEPRECATED):
        assert F.dropout2d(x, 0.5, training=False) is x
    module = nn.Dropout2d(0.5).eval()
    with pytest.warns(UserWarning, match=DEPRECATED):
        assert module(x) is x


def test_modules_on_unexpected_ranks_go_on_with_a_warning():
    ember.manual_seed(1)
    with pytest.warns(UserWarning, match=DEPRECATED):
        out = nn.Dropout2d(0.5)(ember.ones(30, 30))
    assert varying_axes(out.numpy()) == (0, 1)
    out = nn.Dropout3d(0.5)(ember.ones(30, 2, 2, 2))
    assert varying_axes(out.numpy()) == (0,)
    assert repr(nn.Dropout3d(0.2, inplace=True)) == "Dropout3d(p=0.2, inplace=True)"


def test_unbatched_inplace_dropout3d_writes_into_the_input():
    ember.manual_seed(2)
    x = ember.ones(20, 2, 2, 2)
    out = F.dropout3d(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x.numpy())) == {0.0, 2.0}


def test_seeded_gradients_match_finite_differences():
    x = ember.tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 2)), requires_grad=True)

    def seeded(fn):
        def f(x):
            ember.manual_seed(5)  # the same draws at every evaluation
            return fn(x)
        return f
    assert gradcheck(seeded(lambda x: F.dropout3d(x, 0.4)), (x,))
    assert gradcheck(seeded(lambda x: F.alpha_dropout(x, 0.4, True)), (x,))
    assert gradcheck(seeded(lambda x: F.feature_alpha_dropout(x, 0.4, True)), (x,))


# ---------------------------------------------------------------- alpha dropout

ALPHA = 1.7580993408473766


def alpha_affine(p):
    a = 1 / math.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)   # scale, shift when kept, value when dropped


def test_alpha_dropout_law_and_moments():
    ember.manual_seed(3)
    p = 0.2
    a, kept_shift, dropped = alpha_affine(p)
    x = np.random.default_rng(1).standard_normal(200_000)
    y = F.alpha_dropout(ember.tensor(x), p, training=True).numpy()
    kept = np.isclose(y, a * x + kept_shift, rtol=0, atol=1e-12)
    assert np.all(kept | np.isclose(y, dropped, rtol=0, atol=1e-12))
    assert abs((~kept).mean() - p) < 0.01
    # SELU's fixed point: zero mean and unit variance are kept (sampling error ~ 0.003)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_feature_alpha_dropout_drops_whole_channels():
    ember.manual_seed(4)
    p = 0.5
    a, kept_shift, dropped = alpha_affine(p)
    x = np.random.default_rng(2).standard_normal((20, 20, 4))
    y = nn.FeatureAlphaDropout(p)(ember.tensor(x)).numpy()
    was_dropped = np.isclose(y, dropped, rtol=0, atol=1e-12)
    assert np.all(was_dropped | np.isclose(y, a * x + kept_shift, rtol=0, atol=1e-12))
    assert varying_axes(was_dropped.astype(float)) == (0, 1)


def test_alpha_dropout_eval_p0_p1_and_defaults():
    x = ember.randn(5, 4)
    assert F.alpha_dropout(x, 0.5) is x  # training defaults to False, as in PyTorch
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert F.alpha_dropout(x, 0.0, True) is x
    assert_close(F.alpha_dropout(x, 1.0, True), np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match="alpha_dropout: dropout probability"):
        F.alpha_dropout(x, 1.5, True)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.AlphaDropout(-0.1)


def test_alpha_dropout_matches_pytorch_law():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = np.random.default_rng(3).standard_normal((100, 50)).astype(np.float32)
    for p in (0.1, 0.5):
        theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), p, True).numpy()
        ours = F.alpha_dropout(ember.tensor(x), p, True).numpy()
        a, kept_shift, dropped = alpha_affine(p)
        for y in (theirs, ours):
            assert np.all(np.isclose(y, a * x + kept_shift, atol=1e-5)
                          | np.isclose(y, dropped, atol=1e-5))
        assert abs((theirs == theirs.min()).mean() - (ours == ours.min()).mean()) < 0.04
