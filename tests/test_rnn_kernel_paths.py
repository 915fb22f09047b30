"""The recurrent kernels' code paths beyond the small cases of test_rnn_kernels.py: batches from
8 samples on, whose step products also compute the input projection (smaller batches project
all steps up front), hidden sizes spanning several register tiles with a partial last one, the
batch-first layout, inference without a reserve, LSTM's output and c_n in one buffer, threads."""
import numpy as np
import pytest

from ember import _core
from ember.ops.rnn import rnn_layer
from ember.testing import assert_close
from test_rnn_kernels import (MODES, gradcheck_layer, make, randn, reference, right_padding_mask,
                              tensors)

# (name, steps, batch, inputs, hidden): both sides of the 8-sample fused path, and a hidden
# size of several tiles (37 = 4 x 8 + 5: a partial last tile at float64 and float32 widths).
SHAPES = [("batch7", 3, 7, 4, 5), ("batch8", 3, 8, 4, 5), ("batch13_h37", 4, 13, 3, 37),
          ("batch1_h37", 5, 1, 3, 37)]


def batch_first(a):
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_forward_matches_reference(mode, reverse, shape, masked):
    _, steps, batch, inputs, hidden = shape
    arrays = make(mode, steps, batch, inputs, hidden)
    mask = right_padding_mask(rng_lengths(steps, batch), steps) if masked else None
    out, c_n, _ = _core.rnn_forward(mode, *arrays, mask, reverse)
    want_out, _, want_c = reference(mode, *arrays, reverse=reverse, mask=mask)
    assert_close(out, want_out, rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        assert_close(c_n, want_c, rtol=1e-12, atol=1e-12)


def rng_lengths(steps, batch):
    return np.random.default_rng(batch).integers(1, steps + 1, batch)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_every_input_fused_batch(mode, reverse, masked):
    steps, batch = 3, 9
    arrays = make(mode, steps=steps, batch=batch, inputs=2, hidden=3)
    mask = right_padding_mask(rng_lengths(steps, batch), steps) if masked else None
    assert gradcheck_layer(mode, arrays, reverse=reverse, mask=mask)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_batch_first_several_tiles(mode):
    steps, batch, hidden = 2, 8, 17  # 17: three float64 tiles of LSTM/GRU cells, the last partial
    x, *rest = make(mode, steps=steps, batch=batch, inputs=2, hidden=hidden)
    arrays = (batch_first(x), *rest)
    mask = right_padding_mask([2, 1, 2, 2, 1, 2, 2, 1], steps)
    assert gradcheck_layer(mode, arrays, mask=mask, batch_first=True)


@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_batch_first_equals_time_major(mode, reverse, shape):
    # Each row's arithmetic is the same in both layouts: equal to the last bit.
    _, steps, batch, inputs, hidden = shape
    arrays = make(mode, steps, batch, inputs, hidden)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays
    mask = right_padding_mask(rng_lengths(steps, batch), steps)
    g, gc = randn(steps, batch, hidden), (randn(batch, hidden) if mode == "lstm" else None)
    out, c_n, reserve = _core.rnn_forward(mode, *arrays, mask, reverse)
    grads = _core.rnn_backward(mode, g, gc, x, h0, c0, w_ih, w_hh, mask, out, reserve, reverse)
    bx = batch_first(x)
    b_out, b_cn, b_reserve = _core.rnn_forward(mode, bx, h0, c0, w_ih, w_hh, b_ih, b_hh, mask,
                                               reverse, batch_first=True)
    b_grads = _core.rnn_backward(mode, batch_first(g), gc, bx, h0, c0, w_ih, w_hh, mask, b_out,
                                 b_reserve, reverse, batch_first=True)
    assert b_out.shape == (batch, steps, hidden)
    assert b_reserve.shape == reserve.shape  # time-major in both layouts
    if batch >= 8:  # the fused path: no large product whose blocking could see the row order
        np.testing.assert_array_equal(b_out, batch_first(out))
        compare = np.testing.assert_array_equal
    else:
        assert_close(b_out, batch_first(out), rtol=1e-13, atol=1e-14)

        def compare(a, b):
            assert_close(a, b, rtol=1e-12, atol=1e-13)
    if mode == "lstm":
        compare(b_cn, c_n)
    compare(b_reserve, reserve)
    compare(b_grads[0], batch_first(grads[0]))
    for got, want in zip(b_grads[1:], grads[1:]):
        if want is None:
            assert got is None
        else:
            assert_close(got, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("batch", [3, 9])
@pytest.mark.parametrize("mode", MODES)
def test_inference_without_reserve_gives_the_same_results(mode, batch):
    arrays = make(mode, 5, batch, 4, 6)
    mask = right_padding_mask(rng_lengths(5, batch), 5)
    for first in (False, True):
        args = arrays if not first else (batch_first(arrays[0]), *arrays[1:])
        out, c_n, reserve = _core.rnn_forward(mode, *args, mask, False, first, True)
        i_out, i_cn, i_reserve = _core.rnn_forward(mode, *args, mask, False, first, False)
        assert i_reserve is None and reserve is not None
        np.testing.assert_array_equal(i_out, out)
        if mode == "lstm":
            np.testing.assert_array_equal(i_cn, c_n)


def test_lstm_output_and_c_n_share_one_buffer():
    out, c_n, _ = _core.rnn_forward("lstm", *make("lstm", 4, 3, 2, 5))
    assert out.base is not None and out.base is c_n.base
    flat = out.base
    assert flat.shape == (out.size + c_n.size,)
    np.testing.assert_array_equal(flat[:out.size].reshape(out.shape), out)
    np.testing.assert_array_equal(flat[out.size:].reshape(c_n.shape), c_n)


def test_rnn_layer_batch_first_shapes_and_states():
    x, h0, c0, *weights = make("lstm", 4, 9, 3, 5)
    out, h_n, c_n = rnn_layer(*tensors((batch_first(x), h0, c0, *weights), False), mode="lstm",
                              batch_first=True)
    want_out, want_h, want_c = reference("lstm", x, h0, c0, *weights)
    assert tuple(out.shape) == (9, 4, 5)
    assert_close(out, batch_first(want_out), rtol=1e-12, atol=1e-12)
    assert_close(h_n, want_h, rtol=1e-12, atol=1e-12)
    assert_close(c_n, want_c, rtol=1e-12, atol=1e-12)
    _, h_rev, _ = rnn_layer(*tensors((batch_first(x), h0, c0, *weights), False), mode="lstm",
                            batch_first=True, reverse=True)
    assert_close(h_rev, reference("lstm", x, h0, c0, *weights, reverse=True)[1], rtol=1e-12,
                 atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_threads_batch_first(restore_threads, mode, dtype):
    # Samples are split between threads, each computed exactly as alone: the forward, grad_h0
    # and grad_c0 are bitwise independent of the thread count; the products over all steps
    # (grad_input, weights) are threaded by Eigen and agree to a few ulps.
    steps, batch, inputs, hidden = 4, 40, 24, 33
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make(mode, steps, batch, inputs, hidden, dtype=dtype)
    x = batch_first(x)
    mask = right_padding_mask(rng_lengths(steps, batch), steps)
    g = randn(batch, steps, hidden, dtype=dtype)
    gc = randn(batch, hidden, dtype=dtype) if mode == "lstm" else None
    runs = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        f = _core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, True, True)
        b = _core.rnn_backward(mode, g, gc, x, h0, c0, w_ih, w_hh, mask, f[0], f[2], True,
                               batch_first=True)
        runs.append((f, b))
    (f1, b1), (f2, b2) = runs
    for one, two in zip(f1, f2):
        if one is not None:
            np.testing.assert_array_equal(one, two)
    for i, (one, two) in enumerate(zip(b1, b2)):
        if one is None:
            assert two is None
        elif i in (1, 2):
            np.testing.assert_array_equal(one, two)
        else:
            scale = float(np.abs(one).max())
            assert_close(two, one, rtol=0, atol=16 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_threads_small_batch(restore_threads, mode, dtype, batch):
    # Batches of 1 and 3 samples: no split, and a split of 1 + 2 samples, which also project
    # their inputs up front in row blocks of their own.
    steps, inputs, hidden = 6, 8, 40
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make(mode, steps, batch, inputs, hidden, dtype=dtype)
    mask = right_padding_mask(rng_lengths(steps, batch), steps)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        for keep_reserve in (True, False):
            results.append(_core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, True,
                                             False, keep_reserve))
    want_out, _, want_c = reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=True,
                                    mask=mask)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_close(results[0][0], want_out, rtol=tol, atol=tol)
    for other in results[1:]:
        for one, two in zip(results[0], other):
            if one is not None and two is not None:
                np.testing.assert_array_equal(one, two)
