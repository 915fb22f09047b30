"""Shape arithmetic on huge strides, paddings, dilations and output sizes: refused with a
ValueError naming the op and the argument, never wrapped around in int64 (issue 11:
conv2d(padding=2**63-1) reported a "padded input (2, 2)", dilation=2**62 NumPy's "negative
dimensions") and never a pybind11 signature dump for an int too large for C++."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _core, keras

I64 = 2**63 - 1


def _x4():
    return ember.randn(1, 2, 5, 5)


def _w4():
    return ember.randn(3, 2, 3, 3)


@pytest.mark.parametrize("kwargs, fragments", [
    (dict(padding=I64), ["conv2d", "padded input size overflows int64", "9223372036854775807"]),
    (dict(padding=(2**62, 2**62)), ["conv2d", "padded input size overflows int64"]),
    (dict(dilation=2**62), ["conv2d", "dilated kernel size overflows int64", "4611686018427387904"]),
    (dict(dilation=(1, I64)), ["conv2d", "dilated kernel size overflows int64"]),
    (dict(padding=2**64), ["conv2d: padding is out of range", "fit in int64"]),
    (dict(stride=2**64), ["conv2d: stride is out of range", "fit in int64"]),
    (dict(dilation=-2**64), ["conv2d: dilation is out of range"]),
    (dict(groups=2**64), ["conv2d: groups is out of range"]),
    (dict(padding=2**40), ["conv2d", "storage size calculation overflowed"]),
])
def test_conv2d_refuses_sizes_that_overflow(kwargs, fragments):
    with pytest.raises(ValueError) as info:
        F.conv2d(_x4(), _w4(), **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "incompatible function arguments" not in str(info.value)


def test_conv2d_beyond_memory_names_the_bytes():
    with pytest.raises(MemoryError, match=r"conv2d: cannot allocate the \d+ bytes of working "
                                          r"memory this convolution needs \(\d+ threads x "
                                          r"2000003x2000003 outputs x 21 columns\)"):
        F.conv2d(_x4(), _w4(), padding=10**6)


def test_a_kernel_output_beyond_memory_names_its_bytes_and_shape():
    """The bindings' allocation: a failed malloc is a MemoryError naming the size."""
    with pytest.raises(MemoryError, match=r"ember: cannot allocate 8796093022208 bytes for an "
                                          r"array of shape \(1, 2, 1048576, 1048576\)"):
        _core.adaptive_avg_pool2d_forward(_x4().numpy(), (2**20, 2**20))


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(padding=2**62), "conv2d: the padded input size overflows int64"),  # run as 2-D
    # Python's own check, in unbounded ints, words it for the 1-D shapes
    (dict(dilation=2**62), "conv1d: kernel size 9223372036854775809 (dilated) is larger than "
                           "the padded input length 5"),
    (dict(stride=2**64), "conv1d: stride is out of range"),
])
def test_conv1d_refuses_sizes_that_overflow(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        F.conv1d(ember.randn(1, 2, 5), ember.randn(3, 2, 3), **kwargs)
    assert fragment in str(info.value)


def test_huge_strides_that_fit_still_give_pytorchs_result():
    """A stride beyond the input is legal (one window): as PyTorch, not an overflow."""
    torch = pytest.importorskip("torch")
    x, w = _x4(), _w4()
    for stride in (2**40, I64):
        got = F.conv2d(x, w, stride=stride)
        want = torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()),
                                          stride=stride)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    # PyTorch's pooling takes no stride past int32; any stride past the input is one window
    want = torch.nn.functional.max_pool2d(torch.tensor(x.numpy()), 3, stride=10, ceil_mode=True)
    for stride in (2**40, 2**62, I64):
        got = F.max_pool2d(x, 3, stride=stride, ceil_mode=True)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_huge_strides_on_channels_last_input_give_one_window():
    """NHWC (Keras' layout): stride times the channel count overflowed int64 inside im2col
    (UndefinedBehaviorSanitizer, from the error campaign); any stride past the input is the
    same single window."""
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3))
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 2))
    args = ((0, 0, 1, 0), (1, 1), 1)
    want = _core.conv2d_forward(x, w, None, (7, 8), *args, channels_last=True)
    assert want.shape == (2, 1, 1, 4)
    for stride in ((2**62, 2**62), (I64, 3), (2, I64)):
        got = _core.conv2d_forward(x, w, None, stride, *args, channels_last=True)
        expected = _core.conv2d_forward(x, w, None, (min(stride[0], 7), min(stride[1], 8)),
                                        *args, channels_last=True)
        np.testing.assert_array_equal(got, expected)
    layer = keras.layers.Conv2D(4, 3, strides=2**62)
    layer.build((None, 5, 6, 3))
    assert layer(x.astype(np.float32)).shape == (2, 1, 1, 4)


def test_a_padding_whose_padded_input_overflows_is_refused():
    with pytest.raises(ValueError, match="conv2d: storage size calculation overflowed"):
        F.conv2d(_x4(), _w4(), stride=I64, padding=2**61)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda x: F.max_pool2d(x, 2**62), _core.ShapeError, ["max_pool2d", "larger than the padded"]),
    (lambda x: F.max_pool2d(x, 2, dilation=2**62), _core.ShapeError,
     ["max_pool2d: kernel_size 2 (dilation 4611686018427387904) is larger than the padded"]),
    (lambda x: F.max_pool2d(x, 2, stride=2**64), ValueError, ["max_pool2d: stride is out of range"]),
    (lambda x: F.max_pool2d(x, 2**64), ValueError, ["max_pool2d: kernel_size is out of range"]),
    (lambda x: F.max_pool2d(x, 2, padding=I64), ValueError,
     ["max_pool2d", "at most half of the kernel size"]),
    (lambda x: F.avg_pool2d(x, 3, stride=I64, ceil_mode=True), None, []),
    (lambda x: F.adaptive_avg_pool2d(x, 2**64), ValueError,
     ["adaptive_avg_pool2d: output_size is out of range"]),
    (lambda x: F.adaptive_max_pool2d(x, (1, 2**62)), ember.OutOfMemoryError,
     ["adaptive_max_pool2d: storage size calculation overflowed"]),
    (lambda x: F.adaptive_avg_pool2d(x, 2**40), ember.OutOfMemoryError,
     ["adaptive_avg_pool2d", "storage size calculation overflowed"]),
])
def test_pooling_refuses_sizes_that_overflow(call, exc, fragments):
    if exc is None:  # fits: one window per dimension
        assert call(_x4()).shape == (1, 2, 1, 1)
        return
    with pytest.raises(exc) as info:
        call(_x4())
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("kwargs, exc, fragment", [
    (dict(stride=2**40), ember.OutOfMemoryError, "conv_transpose2d: storage size"),
    (dict(stride=2**62), ValueError, "conv_transpose2d: the output size is out of range"),
    (dict(stride=2**64), ValueError, "conv_transpose2d: stride is out of range"),
    (dict(stride=2**62, output_padding=2**62 - 1), ValueError,
     "conv_transpose2d: the output size is out of range"),
    (dict(dilation=2**63), ValueError, "conv_transpose2d: dilation is out of range"),
])
def test_conv_transpose_refuses_sizes_that_overflow(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        F.conv_transpose2d(_x4(), ember.randn(2, 3, 3, 3), **kwargs)


@pytest.mark.parametrize("call, exc, fragment", [
    (lambda x: F.interpolate(x, size=2**64), ValueError, "interpolate: the output size is out"),
    (lambda x: F.interpolate(x, size=(2**40, 2)), ember.OutOfMemoryError,
     r"interpolate: cannot allocate a tensor of shape \(2, 1099511627776, 2\)"),
    (lambda x: F.interpolate(x, scale_factor=2**40), ember.OutOfMemoryError, "interpolate"),
    (lambda x: F.interpolate(x, scale_factor=2**62), ValueError,
     "interpolate: the output size is out of range"),
    (lambda x: F.pad(x, (2**64, 0)), ValueError, "pad: pad is out of range"),
    (lambda x: F.pad(x, (2**40, 2**40)), ember.OutOfMemoryError, "pad: cannot allocate"),
    (lambda x: F.pad(x, (-2**40, 0)), ValueError, "pad: padding .* gives a negative size"),
    (lambda x: x.repeat(2**40, 1, 1, 1), ember.OutOfMemoryError, "repeat: cannot allocate"),
    (lambda x: x.repeat(2**64, 1, 1, 1), ValueError, "repeat: repeats is out of range"),
    (lambda x: x.repeat_interleave(2**40), ember.OutOfMemoryError, "repeat_interleave"),
])
def test_resampling_and_padding_refuse_absurd_sizes(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call(_x4())


def _local_response_norm_reference(x, size, alpha=1e-4, beta=0.75, k=1.0):
    squares, out = x**2, np.empty_like(x)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - size // 2), min(x.shape[1], c + (size - 1) // 2 + 1)
        out[:, c] = x[:, c] / (k + alpha / size * squares[:, lo:hi].sum(axis=1)) ** beta
    return out


def test_local_response_norm_with_a_huge_window():
    """Zero padding beyond the channels adds nothing: a window of 2**62 channels costs as much as
    one of 2 * channels + 1 (it used to loop 2**62 times; PyTorch overflows its storage size)."""
    x = ember.randn(2, 4, 3, dtype=ember.float64)
    for size in (3, 9, 2**62):
        np.testing.assert_allclose(F.local_response_norm(x, size).numpy(),
                                   _local_response_norm_reference(x.numpy(), size), rtol=1e-12)
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.local_response_norm(torch.tensor(x.numpy()), 9)
    np.testing.assert_allclose(F.local_response_norm(x, 9).numpy(), want.numpy(), rtol=1e-12)


def test_the_kernels_refuse_overflowing_geometry_when_called_directly():
    """The bindings check too, whatever Python computed (a wrapped size would read out of
    bounds)."""
    x, w = _x4().numpy(), _w4().numpy()
    with pytest.raises(ValueError, match="conv2d: the padded input size overflows int64"):
        _core.conv2d_forward(x, w, None, (1, 1), (I64, I64, 0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="conv2d: the dilated kernel size overflows int64"):
        _core.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0), (2**62, 1), 1)
    with pytest.raises(ValueError, match="conv2d_backward_input: storage size calculation "
                                         "overflowed"):
        _core.conv2d_backward_input(np.zeros((1, 3, 1, 1), np.float32), w,
                                    [2**40, 2, 2**40, 2**40], (1, 1), (0, 0, 0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="max_pool2d: the dilated kernel size overflows"):
        _core.max_pool2d_forward(x, (2, 2), (1, 1), (0, 0, 0, 0), (I64, 1), (1, 1))
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size \\* input size "
                                         "overflows"):
        _core.adaptive_avg_pool2d_forward(x, (2**62, 1))


def test_a_convolution_whose_columns_cannot_fit_raises_instead_of_aborting():
    """The im2col columns are allocated inside the parallel region: with two threads a
    bad_alloc there terminated the interpreter (abort, exit code 134)."""
    import subprocess
    import sys

    child = ("import ember, ember.nn.functional as F\n"
             "ember.set_num_threads(2)\n"
             "try:\n"
             "    F.conv2d(ember.randn(2, 2, 3000, 3000), ember.randn(1, 2, 1500, 1500))\n"
             "except MemoryError as e:\n"
             "    print('refused:', e)\n")
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: conv2d: cannot allocate the" in proc.stdout
    assert "bytes of working memory this convolution needs (2 threads x 1501x1501 outputs" \
        in proc.stdout
