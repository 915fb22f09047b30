"""Max pooling over windows that tile the input (stride == kernel, no padding or dilation): the
vectorized kernels against the direct-loop reference of test_pool_kernels.py, and the backward
that finds the maxima again in the input against the general scatter of the indices. Widths
cover rows shorter than a vector, exact vector multiples and rows with a remainder, at every
instruction-set level's vector width."""
import numpy as np
import pytest

from ember import _core
from test_conv_fused_relu import CallSpy
from test_pool_kernels import nhwc, window_reference

rng = np.random.default_rng(123)

# (name, x shape NCHW, kernel); out = floor(in / kernel)
TILED = [
    ("2x2_short_rows", (2, 3, 6, 10), (2, 2)),
    ("2x2_conv1_output", (2, 4, 26, 26), (2, 2)),
    ("2x2_odd_uncovered", (1, 3, 11, 13), (2, 2)),
    ("2x2_two_vectors_and_tail", (1, 2, 4, 70), (2, 2)),
    ("2x2_exact_16", (1, 2, 4, 32), (2, 2)),
    ("2x2_exact_8", (1, 2, 2, 16), (2, 2)),
    ("1x2_one_d", (3, 2, 1, 41), (1, 2)),
    ("3x3", (2, 2, 9, 10), (3, 3)),
    ("2x3", (1, 3, 7, 11), (2, 3)),
    ("4x1", (1, 1, 9, 5), (4, 1)),
]


def tied(shape, dtype):
    """Few distinct values: many ties inside windows, and a NaN in some."""
    x = rng.integers(0, 3, shape).astype(dtype)
    x.flat[rng.choice(x.size, max(1, x.size // 40), replace=False)] = np.nan
    return x


def pool(x, kernel, channels_last=False, want_indices=True):
    h, w = (x.shape[1], x.shape[2]) if channels_last else x.shape[2:]
    out = (h // kernel[0], w // kernel[1])
    return _core.max_pool2d_forward(x, kernel, kernel, (0, 0, 0, 0), (1, 1), out, channels_last,
                                    want_indices)


@pytest.mark.parametrize("case", TILED, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_the_reference_in_both_layouts(case, dtype):
    _, shape, kernel = case
    x = rng.standard_normal(shape).astype(dtype)
    y, idx = pool(x, kernel)
    out = (shape[2] // kernel[0], shape[3] // kernel[1])
    want, want_idx = window_reference(x.astype(np.float64), kernel, kernel, (0, 0, 0, 0), (1, 1),
                                      out, "max")
    np.testing.assert_array_equal(y, want.astype(dtype))
    np.testing.assert_array_equal(idx, want_idx)
    y_cl, idx_cl = pool(nhwc(x), kernel, channels_last=True)
    np.testing.assert_array_equal(y_cl, nhwc(y))
    np.testing.assert_array_equal(idx_cl, nhwc(idx))
    for data, cl, want_y in ((x, False, y), (nhwc(x), True, y_cl)):
        y_only, none = pool(data, kernel, cl, want_indices=False)
        assert none is None
        np.testing.assert_array_equal(y_only, want_y)


@pytest.mark.parametrize("case", TILED, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_ties_and_nan_follow_the_general_rules(case, dtype, channels_last):
    """First maximum in window order wins a tie, the last NaN wins; backward agrees with the
    general scatter to the bit."""
    _, shape, kernel = case
    x = tied(shape, dtype)
    if channels_last:
        x = nhwc(x)
    y, idx = pool(x, kernel, channels_last)
    h, w = (x.shape[1], x.shape[2]) if channels_last else x.shape[2:]
    out = (h // kernel[0], w // kernel[1])
    xs = nhwc_to_nchw(x) if channels_last else x
    for n in range(xs.shape[0]):
        for c in range(xs.shape[1]):
            for oy in range(out[0]):
                for ox in range(out[1]):
                    win = xs[n, c, oy * kernel[0]:(oy + 1) * kernel[0],
                             ox * kernel[1]:(ox + 1) * kernel[1]].ravel()
                    nan = np.flatnonzero(np.isnan(win))
                    k = nan[-1] if nan.size else int(np.argmax(win))
                    want = (oy * kernel[0] + k // kernel[1]) * w + ox * kernel[1] + k % kernel[1]
                    got = idx[n, oy, ox, c] if channels_last else idx[n, c, oy, ox]
                    assert got == want
    g = rng.standard_normal(y.shape).astype(dtype)
    general = _core.max_pool2d_backward(g, idx, x.shape, channels_last)
    tiled = _core.max_pool2d_tiled_backward(g, x, kernel, channels_last)
    assert tiled.dtype == dtype
    np.testing.assert_array_equal(tiled, general)


def nhwc_to_nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def test_a_geometry_that_does_not_tile_always_returns_indices():
    x = rng.standard_normal((1, 1, 5, 5))  # 3x3 windows at stride 1 overlap
    y, idx = _core.max_pool2d_forward(x, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), (3, 3), False,
                                      False)
    assert idx is not None and idx.shape == y.shape


@pytest.mark.parametrize("call,exc,fragment", [
    (lambda x, g: _core.max_pool2d_tiled_backward(g, x, (0, 2)), ValueError,
     r"max_pool2d_tiled_backward: kernel_size must be positive, got \(0, 2\)"),
    (lambda x, g: _core.max_pool2d_tiled_backward(g[..., :1], x, (2, 2)), _core.ShapeError,
     r"grad_output has shape \(1, 2, 2, 1\), expected \(1, 2, 2, 2\)"),
    (lambda x, g: _core.max_pool2d_tiled_backward(g, x[0], (2, 2)), _core.ShapeError,
     r"max_pool2d_tiled_backward: expected a 4-D input"),
    (lambda x, g: _core.max_pool2d_tiled_backward(g, x, (5, 5)), _core.ShapeError,
     r"kernel size \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda x, g: _core.max_pool2d_tiled_backward(g.astype(np.float32), x, (2, 2)), TypeError,
     r"grad_output has dtype float32 but expected float64"),
])
def test_tiled_backward_rejects_bad_input(call, exc, fragment):
    x = rng.standard_normal((1, 2, 4, 4))
    g = pool(x, (2, 2))[0]
    with pytest.raises(exc, match=fragment):
        call(x, g)


@pytest.mark.parametrize("channels_last", [False, True])
def test_identical_with_one_and_two_threads(restore_threads, channels_last):
    x = tied((8, 16, 26, 26), np.float32)
    if channels_last:
        x = nhwc(x)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        y, idx = pool(x, (2, 2), channels_last)
        results.append((y, idx, _core.max_pool2d_tiled_backward(y, x, (2, 2), channels_last)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("return_indices", [False, True])
def test_functional_max_pool_gradcheck_on_tiling_windows(channels_last, return_indices):
    import ember
    import ember.nn.functional as F
    from ember.testing import gradcheck
    shape = (2, 5, 7, 3) if channels_last else (2, 3, 5, 7)
    values = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.05  # no ties
    x = ember.tensor(values, requires_grad=True)

    def pool_(a):
        out = F.max_pool2d(a, 2, channels_last=channels_last, return_indices=return_indices)
        return out[0] if return_indices else out
    assert gradcheck(pool_, (x,))
    node = pool_(x).grad_fn
    assert (node.indices is None) == (not return_indices)  # unasked: the tiled kernels ran


@pytest.mark.parametrize("grad", [False, True])
def test_functional_max_pool_asks_for_indices_only_with_return_indices(monkeypatch, grad):
    # The graph path and the no-graph inference path alike: unasked, no index array is made
    # (the tiled kernel runs), and the values are those of the indexed kernel.
    import ember
    import ember.nn.functional as F
    import ember.ops.pool
    spy = CallSpy(_core, "max_pool2d_forward")
    x = ember.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=grad)
    want = pool(x.detach().numpy(), (2, 2))[0]
    monkeypatch.setattr(ember.ops.pool, "_core", spy)
    with ember.set_grad_enabled(grad):
        y = F.max_pool2d(x, 2)
        y_i, idx = F.max_pool2d(x, 2, return_indices=True)
    assert [args[7] for args in spy.calls] == [False, True]  # want_indices, after the geometry
    for out in (y, y_i):
        np.testing.assert_array_equal(out.detach().numpy(), want)
    assert idx.shape == y.shape
