"""The C++ dropout kernel: Philox4x32-10 against the published known-answer vectors, the mask's
element-to-word mapping against a NumPy reference built from single Philox blocks, the same
mask at any thread count, the law of the mask, F.dropout and scaled_dot_product_attention's
dropout on top of it (gradients, manual_seed, NaN, p = 0 and 1, strided and empty inputs), and
errors for bad arguments."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _core
from ember.testing import assert_close, gradcheck

# Random123's kat_vectors for philox4x32 with 10 rounds: (counter, key, result).
PHILOX_KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]
BLOCKS = 32          # Philox blocks per group of the kernel
GROUP = 4 * BLOCKS   # mask elements per group


@pytest.mark.parametrize("counter, key, expected", PHILOX_KAT)
def test_philox_matches_known_answers(counter, key, expected):
    assert list(_core.philox4x32_10(counter, key)) == expected


def reference_mask(n, p, seed, dtype):
    """Element GROUP*g + BLOCKS*l + j is word l of the block with counter (BLOCKS*g + j, 0, 0, 0)
    and key (seed low, seed high); dropped when the word is below round(p * 2^32)."""
    key = [seed & 0xFFFFFFFF, seed >> 32]
    threshold = min(round(p * 2.0**32), 2**32 - 1)
    scale = dtype.type(0.0 if p == 1 else 1.0 / (1.0 - p))
    mask = np.empty(n, dtype)
    for i in range(n):
        g, rest = divmod(i, GROUP)
        lane, j = divmod(rest, BLOCKS)
        block = BLOCKS * g + j
        word = _core.philox4x32_10([block & 0xFFFFFFFF, block >> 32, 0, 0], key)[lane]
        mask[i] = scale if word >= threshold else 0
    return mask


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 127, 128, 300])
def test_mask_matches_reference(dtype, n):
    seed = 0x0123456789ABCDEF
    mask = np.empty(n, dtype)
    _core.dropout_mask(mask, 0.3, seed)
    np.testing.assert_array_equal(mask, reference_mask(n, 0.3, seed, np.dtype(dtype)))


def test_forward_is_input_times_mask_and_mask_matches_dropout_mask():
    x = np.random.default_rng(0).standard_normal((37, 53)).astype(np.float32)
    y, mask = _core.dropout_forward(x, 0.25, 99)
    alone = np.empty_like(x)
    _core.dropout_mask(alone, 0.25, 99)
    np.testing.assert_array_equal(mask, alone)
    np.testing.assert_array_equal(y, x * mask)
    assert set(np.unique(mask)) <= {np.float32(0), np.float32(1 / 0.75)}


def test_a_longer_mask_starts_with_the_shorter_one():
    short, long = np.empty(1000), np.empty(5000)
    _core.dropout_mask(short, 0.5, 7)
    _core.dropout_mask(long, 0.5, 7)
    np.testing.assert_array_equal(long[:1000], short)


def test_same_mask_at_any_thread_count(restore_threads):
    x = np.ones(3 * 2**16 + 45, np.float32)  # large enough to be split over threads
    results = []
    for threads in (1, 2, 3):
        ember.set_num_threads(threads)
        results.append(_core.dropout_forward(x, 0.4, 12345)[1])
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9])
def test_drop_rate_and_independence(p):
    n = 1 << 20
    mask = np.empty(n, np.float32)
    _core.dropout_mask(mask, p, 2024)
    dropped = mask == 0
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(dropped.mean() - p) < 6 * sigma
    # Neighbours (same block, next block, next group) are independent: P(both) = p^2.
    for shift in (1, BLOCKS, GROUP):
        both = np.mean(dropped[:-shift] & dropped[shift:])
        assert abs(both - p * p) < 6 * math.sqrt(p * p * (1 - p * p) / n)


def test_different_seeds_give_different_masks():
    a, b = np.empty(4096), np.empty(4096)
    _core.dropout_mask(a, 0.5, 1)
    _core.dropout_mask(b, 0.5, 2)
    assert 0.4 < np.mean(a != b) < 0.6


def test_p_zero_keeps_everything_and_p_one_drops_everything():
    x = np.array([1.0, -2.0, np.nan, np.inf])
    y, mask = _core.dropout_forward(x, 0.0, 5)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(mask, np.ones(4))
    y, mask = _core.dropout_forward(x, 1.0, 5)
    np.testing.assert_array_equal(mask, np.zeros(4))
    # x * 0: NaN and inf give NaN, as in PyTorch
    np.testing.assert_array_equal(y, [0.0, 0.0, np.nan, np.nan])


def test_backward_kernel_multiplies_by_the_mask():
    rng = np.random.default_rng(1)
    g, mask = rng.standard_normal(1000), rng.integers(0, 2, 1000) * 2.0
    np.testing.assert_array_equal(_core.dropout_backward(g, mask), g * mask)


def test_dropout_gradcheck_float64():
    x = ember.randn(6, 7, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: F.dropout(t, 0.4, generator=ember.Generator().manual_seed(3)),
                     (x,))


def test_dropout_forward_and_grad_follow_the_mask():
    x = ember.randn(40, 30, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] / 0.7,
                               rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, np.float32(1 / 0.7), 0), rtol=1e-6)


def test_manual_seed_reproduces_dropout_and_advances_the_stream():
    x = ember.ones(500)
    ember.manual_seed(11)
    a, b = F.dropout(x, 0.5), F.dropout(x, 0.5)
    ember.manual_seed(11)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())


def test_dropout_of_strided_empty_and_scalar_inputs():
    base = ember.randn(8, 10)
    strided = base.t()[::2]
    gen = ember.Generator().manual_seed(4)
    y = F.dropout(strided, 0.5, generator=gen)
    gen.manual_seed(4)
    assert_close(y, F.dropout(strided.contiguous(), 0.5, generator=gen))
    assert F.dropout(ember.ones(0, 3), 0.5).shape == (0, 3)
    assert F.dropout(ember.tensor(2.0), 0.5).item() in (0.0, 4.0)


def test_sdpa_dropout_mask_law_and_reproducibility():
    q = ember.ones(2, 3, 64, 8)
    v = ember.eye(64).expand(2, 3, 64, 64)  # out = dropped and rescaled attention weights
    ember.manual_seed(6)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.2).numpy()
    ember.manual_seed(6)
    again = F.scaled_dot_product_attention(q, q, v, dropout_p=0.2).numpy()
    np.testing.assert_array_equal(out, again)
    weights = np.full(out.shape, 1 / 64, np.float32)
    kept = out != 0
    np.testing.assert_allclose(out[kept], weights[kept] / np.float32(0.8), rtol=1e-5)
    assert abs((~kept).mean() - 0.2) < 6 * math.sqrt(0.2 * 0.8 / out.size)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_bad_probability_is_a_value_error(p):
    with pytest.raises(ValueError, match="dropout"):
        _core.dropout_forward(np.ones(3, np.float32), p, 0)
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(ember.ones(3), p)


def test_mask_must_be_writable_contiguous_float():
    with pytest.raises(ValueError, match="dropout_mask: mask must be a writable C-contiguous"):
        _core.dropout_mask(np.ones((4, 4))[:, ::2], 0.5, 0)
    readonly = np.ones(4)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        _core.dropout_mask(readonly, 0.5, 0)
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.dropout_mask(np.ones(4, np.int32), 0.5, 0)
    with pytest.raises(ValueError, match="mask has shape"):
        _core.dropout_backward(np.ones(3), np.ones(4))
