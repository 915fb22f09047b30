"""F.interpolate, nn.Upsample, nn.UpsamplingNearest2d and nn.UpsamplingBilinear2d: a direct-loop
NumPy reference, finite-difference gradients, PyTorch parity (including its index rounding for
non-integer scales) and PyTorch's argument errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck
from test_conv_transpose import training_losses

rng = np.random.default_rng(11)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def source_positions(in_size, out_size, mode, align_corners, scale):
    """Per output position, [(input index, weight)] by the documented formulas, in float64."""
    ratio = 1 / scale if scale else in_size / out_size
    taps = []
    for o in range(out_size):
        if mode == "nearest":
            taps.append([(min(math.floor(o * ratio), in_size - 1), 1.0)])
        elif mode == "nearest-exact":
            taps.append([(min(math.floor((o + 0.5) * ratio), in_size - 1), 1.0)])
        else:
            if align_corners:
                p = o * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
            else:
                p = max((o + 0.5) * ratio - 0.5, 0.0)
            i = min(math.floor(p), in_size - 1)
            frac = p - i
            taps.append([(i, 1 - frac), (min(i + 1, in_size - 1), frac)])
    return taps


def reference(x, out_sizes, mode, align_corners=False, scales=None):
    """Loops over every output element, one spatial axis after another."""
    scales = scales or [None] * len(out_sizes)
    for axis, (out, scale) in enumerate(zip(out_sizes, scales), start=2):
        taps = source_positions(x.shape[axis], out, mode, align_corners, scale)
        moved = np.moveaxis(x, axis, 0)
        y = np.zeros((out,) + moved.shape[1:])
        for o, pairs in enumerate(taps):
            for i, w in pairs:
                y[o] += w * moved[i]
        x = np.moveaxis(y, 0, axis)
    return x


# (name, input shape, keyword arguments, reference output sizes, reference scales)
CASES = [
    ("nearest_up2", (2, 3, 4, 5), dict(scale_factor=2), (8, 10), None),
    ("nearest_size", (1, 2, 5, 3), dict(size=(7, 8)), (7, 8), None),
    ("nearest_down", (1, 2, 9, 7), dict(size=(4, 3)), (4, 3), None),
    ("nearest_1d", (2, 3, 6), dict(size=13), (13,), None),
    ("nearest_exact", (1, 2, 5, 7), dict(size=(8, 3), mode="nearest-exact"), (8, 3), None),
    ("bilinear", (2, 2, 4, 5), dict(size=(7, 9), mode="bilinear"), (7, 9), None),
    ("bilinear_corners", (2, 2, 4, 5), dict(size=(7, 9), mode="bilinear", align_corners=True),
     (7, 9), None),
    ("bilinear_down", (1, 3, 9, 8), dict(size=(4, 5), mode="bilinear"), (4, 5), None),
    ("bilinear_scale", (1, 2, 5, 4), dict(scale_factor=(1.5, 2.25), mode="bilinear"), (7, 9),
     (1.5, 2.25)),
    ("linear", (2, 3, 5), dict(scale_factor=2, mode="linear"), (10,), (2.0,)),
    ("linear_corners", (2, 3, 5), dict(size=3, mode="linear", align_corners=True), (3,), None),
    ("linear_to_one", (1, 2, 5), dict(size=1, mode="linear", align_corners=True), (1,), None),
]
IDS = [c[0] for c in CASES]


def mode_of(kwargs):
    return kwargs.get("mode", "nearest")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(case, dtype):
    _, shape, kwargs, sizes, scales = case
    x = randn(*shape, dtype=dtype)
    out = F.interpolate(ember.tensor(x), **kwargs)
    assert out.dtype == ember.tensor(x).dtype
    want = reference(x.astype(np.float64), sizes, mode_of(kwargs),
                     kwargs.get("align_corners", False), scales)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert_close(out, want, **tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    _, shape, kwargs, _, _ = case
    assert gradcheck(lambda x: F.interpolate(x, **kwargs),
                     (ember.tensor(randn(*shape), requires_grad=True),))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_channels_last_is_the_same_op(case):
    _, shape, kwargs, _, _ = case
    x = randn(*shape)
    order = (0,) + tuple(range(2, len(shape))) + (1,)
    want = F.interpolate(ember.tensor(x), **kwargs).numpy().transpose(order)
    x_last = ember.tensor(np.ascontiguousarray(x.transpose(order)), requires_grad=True)
    assert_close(F.interpolate(x_last, **kwargs, channels_last=True), want, rtol=0, atol=0)
    assert gradcheck(lambda t: F.interpolate(t, **kwargs, channels_last=True), (x_last,))
    half = tuple(max(1, n // 2) for n in shape[2:])
    area = F.interpolate(x_last, size=half, mode="area", channels_last=True)
    want = F.interpolate(ember.tensor(x), size=half, mode="area").numpy().transpose(order)
    assert_close(area, want, rtol=1e-12, atol=1e-12)


def test_area_mode_is_adaptive_average_pooling_and_differentiable():
    x = randn(2, 3, 8, 6)
    out = F.interpolate(ember.tensor(x), size=(4, 3), mode="area")
    want = x.reshape(2, 3, 4, 2, 3, 2).mean(axis=(3, 5))
    assert_close(out, want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=0.5, mode="area"),
                     (ember.tensor(randn(1, 2, 6, 5), requires_grad=True),))


# ---------------------------------------------------------------- PyTorch

TORCH_KWARGS = [
    dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=(0.43, 2.31)),
    dict(scale_factor=3.3, recompute_scale_factor=True), dict(size=(11, 4)),
    dict(scale_factor=(1.1, 1.0)), dict(size=(10, 14)),
]
TORCH_MODES = [("nearest", None), ("nearest-exact", None), ("bilinear", False),
               ("bilinear", True), ("area", None)]


@pytest.mark.parametrize("kwargs", TORCH_KWARGS)
@pytest.mark.parametrize("mode, align_corners", TORCH_MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_forward_and_backward(kwargs, mode, align_corners, dtype):
    torch = pytest.importorskip("torch")
    x = randn(2, 3, 7, 5, dtype=dtype)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, mode=mode, align_corners=align_corners, **kwargs)
    ey = F.interpolate(ex, mode=mode, align_corners=align_corners, **kwargs)
    assert tuple(ey.shape) == tuple(ty.shape)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    if mode.startswith("nearest"):
        tol = dict(rtol=0, atol=0)  # the same pixels: bitwise equal
    assert_close(ey, ty.detach().numpy(), **tol)
    g = randn(*ty.shape, dtype=dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    assert_close(ex.grad, tx.grad.numpy(), **dict(rtol=1e-5, atol=1e-5) if dtype == "float32"
                 else dict(rtol=1e-12, atol=1e-12))


def test_matches_torch_index_rounding_for_many_non_integer_scales():
    """Nearest modes pick exactly PyTorch's pixels (its float32 index maths); linear modes
    agree to rounding."""
    torch = pytest.importorskip("torch")
    for trial in range(60):
        n = int(rng.integers(1, 200)) if trial > 1 else 7
        if trial < 2:  # a scale whose output size is the input's, and one with twice it
            kwargs = dict(scale_factor=(1.1, 2.1)[trial])
        elif trial % 2:
            kwargs = dict(scale_factor=float(rng.uniform(0.2, 5)))
        else:
            kwargs = dict(size=int(rng.integers(1, 400)))
        x = np.arange(n, dtype=np.float32)[None, None]
        for mode, align_corners in [("nearest", None), ("nearest-exact", None),
                                    ("linear", False), ("linear", True)]:
            want = torch.nn.functional.interpolate(torch.tensor(x), mode=mode,
                                                   align_corners=align_corners, **kwargs).numpy()
            got = F.interpolate(ember.tensor(x), mode=mode, align_corners=align_corners,
                                **kwargs).numpy()
            assert got.shape == want.shape, (n, kwargs, mode)
            if mode == "linear":  # a few ulps of values up to n
                assert_close(got, want, rtol=0, atol=4 * n * np.finfo(np.float32).eps)
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{n} {kwargs} {mode}")
        # 2-D: PyTorch's 'nearest' kernel copies when out == in and halves when out == 2 * in
        # whatever the scale factor, which its 1-D kernel does not.
        kwargs2 = {k: (v, 1.0) if k == "scale_factor" else (v, 1) for k, v in kwargs.items()}
        for mode in ("nearest", "nearest-exact"):
            want = torch.nn.functional.interpolate(torch.tensor(x[..., None]), mode=mode,
                                                   **kwargs2).numpy()
            got = F.interpolate(ember.tensor(x[..., None]), mode=mode, **kwargs2).numpy()
            np.testing.assert_array_equal(got, want, err_msg=f"{n} {kwargs2} {mode}")


def test_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = randn(2, 3, 4, 6)
    pairs = [
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample(size=(5, 7), mode="bilinear"),
         torch.nn.Upsample(size=(5, 7), mode="bilinear")),
        (nn.Upsample(scale_factor=(1.5, 0.5), mode="nearest-exact"),
         torch.nn.Upsample(scale_factor=(1.5, 0.5), mode="nearest-exact")),
        (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
        (nn.UpsamplingBilinear2d(size=(7, 3)), torch.nn.UpsamplingBilinear2d(size=(7, 3))),
    ]
    for em, tm in pairs:
        assert repr(em) == repr(tm)
        assert_close(em(ember.tensor(x)), tm(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)
    up = nn.Upsample(scale_factor=2, mode="linear", align_corners=True)
    x1 = randn(2, 3, 5)
    assert_close(up(ember.tensor(x1)),
                 torch.nn.Upsample(scale_factor=2, mode="linear", align_corners=True)(
                     torch.tensor(x1)).numpy(), rtol=1e-12, atol=1e-12)
    assert list(up.state_dict()) == [] and up.scale_factor == 2.0


def test_upsample_in_a_model_trains():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"),
                          nn.Conv2d(2, 1, 3, padding=1))
    x = ember.tensor(randn(4, 2, 5, 5, dtype=np.float32))
    target = ember.tensor(randn(4, 1, 10, 10, dtype=np.float32))
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    losses = training_losses(model, x, target, F.mse_loss, opt, 20)
    assert losses[-1] < losses[0]


def test_nearest_keeps_integer_dtypes():
    x = ember.tensor(np.arange(6).reshape(1, 1, 2, 3))
    out = F.interpolate(x, scale_factor=2)
    assert out.dtype == x.dtype
    want = np.arange(6).reshape(2, 3).repeat(2, 0).repeat(2, 1)[None, None]
    np.testing.assert_array_equal(out.numpy(), want)


def test_deprecated_upsample_functions_warn_like_torch():
    x = ember.tensor(randn(1, 1, 2, 2))
    with pytest.warns(UserWarning, match="nn.functional.upsample` is deprecated"):
        out = F.upsample(x, scale_factor=2)
    assert tuple(out.shape) == (1, 1, 4, 4)
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        out = F.upsample_bilinear(x, size=3)
    assert_close(out, F.interpolate(x, size=3, mode="bilinear", align_corners=True))
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        F.upsample_nearest(x, size=3)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("shape, kwargs, error, pattern", [
    ((1, 1, 4, 4), dict(size=2, scale_factor=2), ValueError, "only one of size or scale_factor"),
    ((1, 1, 4, 4), dict(), ValueError, "either size or scale_factor should be defined"),
    ((1, 1, 4, 4), dict(size=(2, 3, 4)), ValueError,
     r"same number of spatial dimensions, but got input with spatial dimensions of \[4, 4\]"),
    ((1, 1, 4, 4), dict(scale_factor=(2, 3, 4)), ValueError, "scale_factor of"),
    ((1, 1, 4, 4), dict(size=2.5), TypeError, "expected size to be one of int"),
    ((1, 1, 4, 4), dict(size=2, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size"),
    ((1, 1, 4, 4), dict(size=2, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    ((1, 1, 4), dict(size=2, mode="bilinear"), NotImplementedError,
     "Got 3D input, but bilinear mode needs 4D input"),
    ((1, 1, 4, 4), dict(size=2, mode="linear"), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input"),
    ((1, 1, 4, 4), dict(size=2, mode="bicubic"), NotImplementedError,
     "ember does not implement mode='bicubic'"),
    ((1, 1, 2, 4, 4), dict(size=2), NotImplementedError, "ember does not implement mode='nearest' "
                                                         "on 5-D input"),
    ((1, 1, 4, 4), dict(size=2, mode="bilinear", antialias=True), NotImplementedError,
     "antialias=True"),
    ((1, 1, 4, 4), dict(size=2, antialias=True), ValueError,
     "Anti-alias option is restricted to bilinear"),
    ((1, 1, 4, 4), dict(size=2, mode="cubic"), NotImplementedError, "mode 'cubic' is not one of"),
    ((4, 4), dict(size=2), NotImplementedError, r"Only 3D, 4D and 5D input Tensors supported "
                                                r"\(got 2D\)"),
    ((1, 1, 4, 4), dict(scale_factor=0.1), ember.ShapeError,
     r"sizes should be greater than 0, but got input \(1, 1, 4, 4\) and output size \[0, 0\]"),
])
def test_bad_arguments_raise_like_torch(shape, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        F.interpolate(ember.tensor(randn(*shape)), **kwargs)


def test_linear_modes_need_floating_input():
    with pytest.raises(NotImplementedError, match="interpolate: mode 'bilinear' is not "
                                                  "implemented for dtype"):
        F.interpolate(ember.tensor(np.arange(4).reshape(1, 1, 2, 2)), size=3, mode="bilinear")
