"""Transposed convolution: the conv2d_backward_input binding, F.conv_transpose1d/2d and
nn.ConvTranspose1d/2d against a direct-loop NumPy reference, finite differences, PyTorch on the
same weights, the NHWC layout, thread counts and bad input."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _core
from ember.testing import assert_close, gradcheck
from test_conv_kernels import nhwc
from test_nn_conv_modules import _check_parity

rng = np.random.default_rng(7)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def conv_transpose2d_reference(x, w, b, stride, pads, output_padding, groups, dilation):
    """Every input pixel scatters its weighted kernel into the output (the definition);
    pads = (top, bottom, left, right) are cropped from the full result."""
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pb, pl, pr), (oph, opw) = stride, dilation, pads, output_padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, cog * groups, full_h, full_w))
    cig = c_in // groups
    for c in range(c_in):
        g = c // cig
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for e in range(kw):
                        full[:, g * cog:(g + 1) * cog, i * sh + a * dh, j * sw + e * dw] += (
                            x[:, c, i, j, None] * w[c, :, a, e])
    out = full[:, :, pt:full_h - pb, pl:full_w - pr]
    if b is not None:
        out = out + b[:, None, None]
    return out


# (name, x shape NCHW, weight shape (c_in, c_out/groups, kh, kw), bias, stride,
#  pads (t, b, l, r), output_padding, groups, dilation)
CASES = [
    ("plain", (2, 3, 4, 5), (3, 4, 3, 3), True, (1, 1), (0, 0, 0, 0), (0, 0), 1, (1, 1)),
    ("no_bias", (2, 3, 4, 5), (3, 2, 3, 2), False, (1, 1), (0, 0, 0, 0), (0, 0), 1, (1, 1)),
    ("stride", (2, 2, 3, 4), (2, 3, 3, 2), True, (2, 3), (0, 0, 0, 0), (0, 0), 1, (1, 1)),
    ("padding", (1, 2, 4, 4), (2, 3, 3, 3), True, (1, 1), (1, 1, 2, 2), (0, 0), 1, (1, 1)),
    ("asymmetric_pads", (1, 2, 4, 3), (2, 3, 3, 4), True, (2, 1), (0, 1, 2, 0), (0, 0), 1, (1, 1)),
    ("output_padding", (2, 2, 3, 3), (2, 2, 3, 3), True, (2, 3), (1, 1, 1, 1), (1, 2), 1, (1, 1)),
    ("dilation", (2, 2, 4, 3), (2, 3, 3, 2), True, (1, 2), (1, 1, 0, 0), (0, 1), 1, (2, 3)),
    # output_padding >= stride is allowed while < dilation: the convolution then covers more
    # positions than the input has.
    ("output_padding_over_stride", (1, 2, 3, 3), (2, 2, 2, 2), True, (1, 1), (0, 0, 0, 0),
     (2, 1), 1, (3, 2)),
    ("groups", (2, 4, 3, 3), (4, 3, 3, 3), True, (2, 2), (1, 1, 1, 1), (1, 1), 2, (1, 1)),
    ("depthwise", (2, 3, 3, 4), (3, 1, 3, 3), True, (2, 1), (0, 0, 1, 1), (0, 0), 3, (1, 1)),
    ("dcgan_block", (2, 4, 4, 4), (4, 2, 4, 4), False, (2, 2), (1, 1, 1, 1), (0, 0), 1, (1, 1)),
    ("one_by_one", (3, 4, 2, 3), (4, 2, 1, 1), True, (1, 1), (0, 0, 0, 0), (0, 0), 1, (1, 1)),
]
IDS = [c[0] for c in CASES]


def make(case, dtype=np.float64):
    _, xs, ws, bias, stride, pads, output_padding, groups, dilation = case
    x, w = randn(*xs, dtype=dtype), randn(*ws, dtype=dtype)
    b = randn(ws[1] * groups, dtype=dtype) if bias else None
    return x, w, b, dict(stride=stride, padding=pads, output_padding=output_padding,
                         groups=groups, dilation=dilation)


def tensor(a, requires_grad=False):
    return None if a is None else ember.tensor(a, requires_grad=requires_grad)


def reference(x, w, b, kw):
    return conv_transpose2d_reference(x, w, b, kw["stride"], kw["padding"], kw["output_padding"],
                                      kw["groups"], kw["dilation"])


# ---------------------------------------------------------------- forward

@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(case, dtype):
    x, w, b, kw = make(case, dtype)
    out = F.conv_transpose2d(tensor(x), tensor(w), tensor(b), **kw)
    assert out.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
    want = reference(x.astype(np.float64), w.astype(np.float64),
                     None if b is None else b.astype(np.float64), kw)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert_close(out, want, **tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_agrees_with_float64(case):
    x, w, b, kw = make(case)
    out64 = F.conv_transpose2d(tensor(x), tensor(w), tensor(b), **kw)
    f32 = [None if a is None else a.astype(np.float32) for a in (x, w, b)]
    out32 = F.conv_transpose2d(*[tensor(a) for a in f32], **kw)
    assert_close(out32, out64.numpy().astype(np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_channels_last_is_the_same_op(case):
    x, w, b, kw = make(case)
    xe, we, be = tensor(nhwc(x), True), tensor(w, True), tensor(b, b is not None)
    out = F.conv_transpose2d(xe, we, be, **kw, channels_last=True)
    assert_close(out, nhwc(reference(x, w, b, kw)), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: F.conv_transpose2d(*a, **kw, channels_last=True),
                     (xe, we, be))


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck_input_weight_bias(case):
    x, w, b, kw = make(case)
    inputs = (tensor(x, True), tensor(w, True), tensor(b, b is not None))
    assert gradcheck(lambda *a: F.conv_transpose2d(*a, **kw), inputs)


def test_only_the_gradients_asked_for_are_computed():
    x, w, b, kw = make(CASES[5])
    xe, we, be = tensor(x), tensor(w, True), tensor(b)
    F.conv_transpose2d(xe, we, be, **kw).sum().backward()
    assert xe.grad is None and be.grad is None and we.grad is not None
    assert gradcheck(lambda wt: F.conv_transpose2d(tensor(x), wt, tensor(b), **kw),
                     (tensor(w, True),))


# ---------------------------------------------------------------- PyTorch

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch_forward_and_gradients(case):
    torch = pytest.importorskip("torch")
    x, w, b, kw = make(case)
    pt, pb, pl, pr = kw["padding"]
    if pt != pb or pl != pr:
        pytest.skip("PyTorch takes symmetric padding only")
    tkw = dict(kw, padding=(pt, pl))
    targs = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    eargs = [tensor(a, a is not None) for a in (x, w, b)]
    ty = torch.nn.functional.conv_transpose2d(*targs, **tkw)
    ey = F.conv_transpose2d(*eargs, **tkw)
    assert_close(ey, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = randn(*ty.shape)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    for t, e in zip(targs, eargs):
        if t is not None:
            assert_close(e.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose1d_matches_reference_torch_and_gradcheck():
    torch = pytest.importorskip("torch")
    x, w, b = randn(2, 4, 5), randn(4, 3, 3), randn(6)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    args = (tensor(x, True), tensor(w, True), tensor(b, True))
    out = F.conv_transpose1d(*args, **kw)
    want = conv_transpose2d_reference(x[:, :, None], w[:, :, None], b, (1, 2), (0, 0, 1, 1),
                                      (0, 1), 2, (1, 2))[:, :, 0]
    assert_close(out, want, rtol=1e-12, atol=1e-12)
    tout = torch.nn.functional.conv_transpose1d(*map(torch.tensor, (x, w, b)), **kw)
    assert_close(out, tout.numpy(), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: F.conv_transpose1d(*a, **kw), args)
    cl = F.conv_transpose1d(tensor(x.transpose(0, 2, 1).copy()), tensor(w), tensor(b), **kw,
                            channels_last=True)
    assert_close(cl, want.transpose(0, 2, 1), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: F.conv_transpose1d(*a, **kw, channels_last=True),
                     (tensor(x.transpose(0, 2, 1).copy(), True), tensor(w, True), tensor(b, True)))


def test_unbatched_input():
    x, w = randn(3, 4, 5), randn(3, 2, 3, 3)
    out = F.conv_transpose2d(tensor(x), tensor(w), stride=2)
    assert_close(out, F.conv_transpose2d(tensor(x[None]), tensor(w), stride=2).numpy()[0])
    out1 = F.conv_transpose1d(tensor(x[:, 0]), tensor(w[:, :, 0]), padding=1)
    assert tuple(out1.shape) == (2, 5)


# ---------------------------------------------------------------- the binding

def test_backward_input_binding_equals_conv2d_backward_input_gradient():
    x, w, g = randn(2, 4, 7, 6), randn(6, 2, 3, 2), randn(2, 6, 3, 5)
    args = ((2, 1), (1, 0, 0, 0), (1, 1), 2, False)
    want, _, _ = _core.conv2d_backward(g, x, w, *args, True, False, False)
    got = _core.conv2d_backward_input(g, w, list(x.shape), *args)
    np.testing.assert_array_equal(got, want)


def test_backward_input_binding_rejects_bad_shapes():
    w, g = randn(6, 2, 3, 3), randn(2, 6, 3, 3)
    args = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    with pytest.raises(ember.ShapeError, match=r"conv2d_backward_input: grad_output has shape "
                                               r"\(2, 6, 3, 3\), expected \(2, 6, 4, 4\)"):
        _core.conv2d_backward_input(g, w, [2, 2, 6, 6], *args)
    with pytest.raises(ember.ShapeError, match="conv2d_backward_input: expected a 4-D input"):
        _core.conv2d_backward_input(g, w, [2, 2, 5], *args)
    with pytest.raises(TypeError, match="conv2d_backward_input: weight has dtype float32"):
        _core.conv2d_backward_input(g, w.astype(np.float32), [2, 2, 5, 5], *args)


@pytest.mark.parametrize("channels_last", [False, True])
def test_same_result_with_one_and_two_threads(restore_threads, channels_last):
    x, w, b = randn(11, 6, 9, 9), randn(6, 4, 4, 4), randn(4)
    if channels_last:
        x = nhwc(x)
    kw = dict(stride=2, padding=1, channels_last=channels_last)
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        xe, we, be = tensor(x, True), tensor(w, True), tensor(b, True)
        out = F.conv_transpose2d(xe, we, be, **kw)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), xe.grad.numpy(), we.grad.numpy(), be.grad.numpy()])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(output_padding=2, stride=2), ValueError,
     "conv_transpose2d: output_padding must be smaller than either stride or dilation"),
    (dict(output_padding=-1), ValueError, "conv_transpose2d: output_padding must be "
                                          "non-negative"),
    (dict(stride=0), ValueError, "conv_transpose2d: stride and dilation must be positive"),
    (dict(padding=-1), ValueError, "conv_transpose2d: padding must be non-negative"),
    (dict(padding="same"), TypeError, "conv_transpose2d: padding must be an int"),
    (dict(padding=5), ember.ShapeError, "conv_transpose2d: input sizes \\(4, 5\\) give a "
                                        "non-positive output size"),
    (dict(groups=2), ember.ShapeError, r"in_channels \(3\) must be divisible by groups \(2\)"),
    (dict(groups=0), ValueError, "conv_transpose2d: groups must be a positive integer"),
])
def test_bad_hyper_parameters(kwargs, error, pattern):
    x, w = randn(2, 3, 4, 5), randn(3, 2, 3, 3)
    with pytest.raises(error, match=pattern):
        F.conv_transpose2d(tensor(x), tensor(w), **kwargs)


def test_bad_shapes_name_the_op_and_shapes():
    x, w = tensor(randn(2, 3, 4, 5)), tensor(randn(4, 2, 3, 3))
    with pytest.raises(ember.ShapeError, match=r"conv_transpose2d: input has 3 channels but "
                                               r"weight expects 4.*\(2, 3, 4, 5\).*\(4, 2, 3, 3\)"):
        F.conv_transpose2d(x, w)
    with pytest.raises(ember.ShapeError, match="conv_transpose2d: expected 3-D .* or 4-D"):
        F.conv_transpose2d(tensor(randn(3, 4)), w)
    with pytest.raises(ember.ShapeError, match=r"conv_transpose2d: bias must have shape \(2,\)"):
        F.conv_transpose2d(tensor(randn(2, 4, 4, 5)), w, tensor(randn(4)))
    with pytest.raises(ember.ShapeError, match="conv_transpose1d: expected a 3-D weight"):
        F.conv_transpose1d(tensor(randn(2, 4, 5)), w)
    with pytest.raises(TypeError, match=r"conv_transpose2d: input and weight must have the same "
                                        r"floating dtype .* got ember.float32 and ember.float64"):
        F.conv_transpose2d(tensor(randn(2, 4, 4, 5, dtype=np.float32)), w)
    with pytest.raises(TypeError, match="conv_transpose1d: input and weight must have the same"):
        F.conv_transpose1d(ember.tensor(np.ones((1, 4, 3), np.int64)), tensor(randn(4, 2, 3)))
    with pytest.raises(TypeError, match="conv_transpose2d: input and weight must be ember tensors"):
        F.conv_transpose2d(randn(2, 4, 4, 5), w)


# ---------------------------------------------------------------- modules

MODULE_CASES = [
    (lambda m: m.ConvTranspose2d(4, 6, 3), (2, 4, 5, 5)),
    (lambda m: m.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0),
                                 output_padding=(1, 2), groups=2, bias=False, dilation=(1, 2)),
     (2, 4, 4, 5)),
    (lambda m: m.ConvTranspose2d(3, 2, 4, 2, 1), (3, 4, 4)),
    (lambda m: m.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 7)),
    (lambda m: m.ConvTranspose1d(3, 5, 2, dilation=3), (3, 6)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_module, shape", MODULE_CASES)
def test_modules_match_torch(make_module, shape, dtype):
    _check_parity(make_module, shape, dtype)


def test_module_output_size_picks_output_padding_like_torch():
    torch = pytest.importorskip("torch")
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    em = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=ember.float64)
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = randn(1, 3, 5, 4)
    for size in [(9, 7), (10, 8), [1, 2, 10, 7]]:
        want = tm(torch.tensor(x), output_size=size).detach().numpy()
        got = em(tensor(x), output_size=size)
        assert tuple(got.shape) == want.shape
        assert_close(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of "
                                         r"\[11, 7\], but valid sizes range from 9 to 10"):
        em(tensor(x), output_size=(11, 7))
    with pytest.raises(ValueError, match="ConvTranspose2d: for 4D input, output_size must have 2 "
                                         r"or 4 elements \(got 3\)"):
        em(tensor(x), output_size=(3, 9, 7))
    assert tuple(em(tensor(x[0]), output_size=(3, 10, 8)).shape) == (2, 10, 8)
    t1 = torch.nn.ConvTranspose1d(2, 2, 3, stride=3).double()
    e1 = nn.ConvTranspose1d(2, 2, 3, stride=3, dtype=ember.float64)
    e1.load_state_dict({k: v.detach().numpy() for k, v in t1.state_dict().items()})
    x1 = randn(1, 2, 4)
    assert_close(e1(tensor(x1), output_size=[14]),
                 t1(torch.tensor(x1), output_size=[14]).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_module_weight_layout_init_and_repr():
    ember.manual_seed(0)
    m = nn.ConvTranspose2d(4, 6, (3, 2), stride=2, output_padding=1, groups=2)
    assert tuple(m.weight.shape) == (4, 3, 3, 2) and tuple(m.bias.shape) == (6,)
    assert list(m.state_dict()) == ["weight", "bias"]
    # PyTorch's bound: kaiming_uniform_(a=sqrt(5)) over fan_in = weight.size(1) * kH * kW.
    bound = 1 / math.sqrt(3 * 3 * 2)
    for p in (m.weight, m.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.5 * bound
    assert repr(m) == ("ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 2), "
                       "output_padding=(1, 1), groups=2)")
    assert m.transposed is True and nn.Conv2d(2, 2, 1).transposed is False
    assert repr(nn.ConvTranspose1d(2, 3, 4, bias=False, dilation=2)) == (
        "ConvTranspose1d(2, 3, kernel_size=(4,), stride=(1,), dilation=(2,), bias=False)")


def test_module_constructor_errors():
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose2d: output_padding must be smaller"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="ConvTranspose1d: padding must be an integer .* "
                                         "string padding"):
        nn.ConvTranspose1d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="ConvTranspose2d: out_channels must be divisible"):
        nn.ConvTranspose2d(2, 3, 3, groups=2)


def training_losses(model, x, target, loss_fn, opt, steps):
    """The loss before each of `steps` optimizer steps on one batch."""
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_module_in_sequential_trains():
    ember.manual_seed(0)
    model = nn.Sequential(nn.ConvTranspose2d(4, 8, 4, 2, 1), nn.ReLU(),
                          nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Sigmoid())
    x = ember.tensor(randn(4, 4, 3, 3, dtype=np.float32))
    target = ember.tensor((randn(4, 1, 12, 12) > 0).astype(np.float32))
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    losses = training_losses(model, x, target, F.binary_cross_entropy, opt, 30)
    assert losses[-1] < 0.8 * losses[0]
