"""F.pixel_shuffle / F.pixel_unshuffle and nn.PixelShuffle / nn.PixelUnshuffle: a loop
reference, inverse of each other, gradients, PyTorch parity and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(5)


def shuffle_reference(x, r):
    """out[..., c, h * r + i, w * r + j] = x[..., c * r * r + i * r + j, h, w], by loops."""
    *lead, c, h, w = x.shape
    out = np.zeros((*lead, c // (r * r), h * r, w * r), x.dtype)
    for ch in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return out


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((2, 3, 4, 2, 2), 2),
                                      ((1, 5, 1, 1), 1)])
def test_shuffle_matches_reference_and_unshuffle_inverts_it(shape, r):
    x = rng.standard_normal(shape)
    out = F.pixel_shuffle(ember.tensor(x), r)
    np.testing.assert_array_equal(out.numpy(), shuffle_reference(x, r))
    np.testing.assert_array_equal(F.pixel_unshuffle(out, r).numpy(), x)
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), (ember.tensor(x, requires_grad=True),))
    assert gradcheck(lambda t: F.pixel_unshuffle(t, r), (out.detach().requires_grad_(True),))


def test_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 12, 6, 4)).astype(np.float32)
    for em, tm in [(nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                   (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2))]:
        assert repr(em) == repr(tm)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey, ty = em(ex), tm(tx)
        np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
        g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
        ey.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        assert_close(ex.grad, tx.grad.numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("fn, shape, factor, error, pattern", [
    (F.pixel_shuffle, (2, 7, 3, 3), 2, ember.ShapeError,
     r"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
     r"upscale_factor, but input.size\(-3\)=7 is not divisible by 4"),
    (F.pixel_shuffle, (4, 3), 2, ember.ShapeError,
     "pixel_shuffle expects input to have at least 3 dimensions, but got input with 2"),
    (F.pixel_shuffle, (4, 3, 3), 0, ValueError, "pixel_shuffle expects a positive upscale_factor"),
    (F.pixel_unshuffle, (1, 2, 5, 4), 2, ember.ShapeError,
     r"pixel_unshuffle expects height to be divisible by downscale_factor, but "
     r"input.size\(-2\)=5 is not divisible by 2"),
    (F.pixel_unshuffle, (1, 2, 4, 3), 2, ember.ShapeError, r"width .* input.size\(-1\)=3"),
    (F.pixel_unshuffle, (1, 2, 4, 4), 1.5, ValueError, "positive downscale_factor"),
])
def test_bad_input(fn, shape, factor, error, pattern):
    with pytest.raises(error, match=pattern):
        fn(ember.tensor(rng.standard_normal(shape)), factor)
