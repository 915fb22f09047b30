"""Whole-sequence recurrent kernels (ember._core.rnn_forward / rnn_backward, one layer, one
direction) and ember.ops.rnn.rnn_layer: a NumPy time loop with PyTorch's formulas, finite
differences, PyTorch parity (incl. packed sequences for masks), float32, threads and errors."""
import numpy as np
import pytest

import ember
from ember import _core
from ember.ops.rnn import rnn_layer
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(404)
MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def randn(*shape, dtype=np.float64, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """Explicit time loop with torch.nn.RNN/LSTM/GRU's equations; returns (output, h_n, c_n)."""
    steps, batch, _ = x.shape
    gh_size = w_hh.shape[0]
    b_ih = np.zeros(gh_size) if b_ih is None else b_ih
    b_hh = np.zeros(gh_size) if b_hh is None else b_hh
    h = h0.astype(np.float64)
    c = None if c0 is None else c0.astype(np.float64)
    out = np.zeros((steps, batch, w_hh.shape[1]))
    for t in (reversed(range(steps)) if reverse else range(steps)):
        gi, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        c_new = c
        if mode == "rnn_tanh":
            h_new = np.tanh(gi + gh)
        elif mode == "rnn_relu":
            h_new = np.maximum(gi + gh, 0.0)
        elif mode == "lstm":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h_new = sigmoid(o) * np.tanh(c_new)
        else:
            (ir, iz, in_), (hr, hz, hn) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
            r, z = sigmoid(ir + hr), sigmoid(iz + hz)
            n = np.tanh(in_ + r * hn)
            h_new = (1 - z) * n + z * h
        if mask is not None:
            keep = mask[t][:, None].astype(bool)
            h_new = np.where(keep, h_new, h)
            c_new = None if c is None else np.where(keep, c_new, c)
        h, c = h_new, c_new
        out[t] = h
    return out, h, c


def make(mode, steps=4, batch=3, inputs=5, hidden=3, bias=True, dtype=np.float64):
    """(x, h0, c0, w_ih, w_hh, b_ih, b_hh) as NumPy arrays; c0 None unless LSTM."""
    g = GATES[mode] * hidden
    # Weights ~ PyTorch's init scale so that tanh/sigmoid stay away from saturation.
    scale = 1.0 / np.sqrt(hidden)
    return (randn(steps, batch, inputs, dtype=dtype), randn(batch, hidden, dtype=dtype, scale=0.5),
            randn(batch, hidden, dtype=dtype, scale=0.5) if mode == "lstm" else None,
            randn(g, inputs, dtype=dtype, scale=scale), randn(g, hidden, dtype=dtype, scale=scale),
            randn(g, dtype=dtype, scale=scale) if bias else None,
            randn(g, dtype=dtype, scale=scale) if bias else None)


def right_padding_mask(lengths, steps):
    return np.arange(steps)[:, None] < np.asarray(lengths)[None, :]


def tensors(arrays, requires_grad=True):
    return [None if a is None else ember.tensor(a, requires_grad=requires_grad) for a in arrays]


def layer_grads(mode, arrays, reverse=False, mask=None, cotangents=None):
    """Runs rnn_layer forward and backward with loss = <out, v0> + <h_n, v1> + <c_n, v2>.
    Returns (out, h_n, c_n, grads of the seven inputs (None where the input is None))."""
    ts = tensors(arrays)
    out, h_n, c_n = rnn_layer(*ts, mode=mode, reverse=reverse, mask=mask)
    v = cotangents
    loss = (out * ember.tensor(v[0])).sum() + (h_n * ember.tensor(v[1])).sum()
    if c_n is not None:
        loss = loss + (c_n * ember.tensor(v[2])).sum()
    loss.backward()
    grads = [None if t is None else t.grad.numpy() for t in ts]
    return out.detach().numpy(), h_n.detach().numpy(), None if c_n is None else c_n.detach().numpy(), grads


def joined(out, h_n, c_n):
    """One tensor holding output, h_n and c_n: gradcheck backpropagates each output it gets
    separately, and h_n is a slice of output's graph."""
    parts = [out.reshape(-1), h_n.reshape(-1)] + ([] if c_n is None else [c_n.reshape(-1)])
    return ember.cat(parts)


def cotangents_for(steps, batch, hidden):
    return randn(steps, batch, hidden), randn(batch, hidden), randn(batch, hidden)


# ---------------------------------------------------------------- forward vs NumPy

# (name, steps, batch, inputs, hidden, bias)
SHAPES = [("one_step", 1, 3, 4, 3, True), ("long_batch1", 7, 1, 3, 4, True),
          ("no_bias", 5, 2, 3, 2, False), ("wide", 3, 4, 6, 5, True)]


@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_forward_matches_reference(mode, reverse, shape):
    _, steps, batch, inputs, hidden, bias = shape
    arrays = make(mode, steps, batch, inputs, hidden, bias)
    out, c_n, reserve = _core.rnn_forward(mode, *arrays, None, reverse)
    want_out, want_h, want_c = reference(mode, *arrays, reverse=reverse)
    assert out.shape == (steps, batch, hidden) and out.dtype == np.float64
    assert_close(out, want_out, rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        assert_close(c_n, want_c, rtol=1e-12, atol=1e-12)
    else:
        assert c_n is None
    width = {"lstm": 5, "gru": 4}.get(mode, 0) * hidden
    assert reserve.shape == (steps, batch, width)
    # rnn_layer: h_n is the last step processed (step 0 in reverse).
    layer_out, h_n, layer_c = rnn_layer(*tensors(arrays, False), mode=mode, reverse=reverse)
    assert_close(layer_out, want_out, rtol=1e-12, atol=1e-12)
    assert_close(h_n, want_h, rtol=1e-12, atol=1e-12)
    assert (layer_c is None) == (mode != "lstm")
    if mode == "lstm":
        assert_close(layer_c, want_c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_rnn_layer_default_states_are_zero(mode):
    x, h0, c0, *weights = make(mode)
    zeros = np.zeros_like(h0)
    want = reference(mode, x, zeros, None if c0 is None else zeros, *weights)
    out, h_n, c_n = rnn_layer(ember.tensor(x), None, None, *tensors(weights, False), mode=mode)
    assert_close(out, want[0], rtol=1e-12, atol=1e-12)
    assert_close(h_n, want[1], rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        assert_close(c_n, want[2], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_every_input(mode, reverse, masked):
    arrays = make(mode, steps=3, batch=2, inputs=3, hidden=2)
    mask = np.array([[1, 1], [1, 0], [0, 1]], bool) if masked else None
    assert gradcheck_layer(mode, arrays, reverse=reverse, mask=mask)


def gradcheck_layer(mode, arrays, **layer_args):
    """Finite differences of every input of rnn_layer (the seven arrays, biases included)."""
    def f(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        return joined(*rnn_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, **layer_args))

    return gradcheck(f, tuple(tensors(arrays)))


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_without_biases_batch1_one_step(mode):
    for steps, batch in ((1, 1), (4, 1)):
        arrays = make(mode, steps=steps, batch=batch, inputs=2, hidden=3, bias=False)

        def f(x, h0, c0, w_ih, w_hh):
            return joined(*rnn_layer(x, h0, c0, w_ih, w_hh, None, None, mode=mode))

        assert gradcheck(f, tuple(tensors(arrays[:5])))


@pytest.mark.parametrize("mode", MODES)
def test_backward_computes_only_requested(mode):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make(mode)
    out, c_n, reserve = _core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    g, gc = randn(*out.shape), (randn(*h0.shape) if mode == "lstm" else None)
    full = _core.rnn_backward(mode, g, gc, x, h0, c0, w_ih, w_hh, None, out, reserve)
    assert all(a is not None for a in full[:2] + full[3:]) and (full[2] is None) == (mode != "lstm")
    for flags in [(True, False, False, False, False), (False, True, True, False, False),
                  (False, False, False, True, False), (False, False, False, False, True)]:
        part = _core.rnn_backward(mode, g, gc, x, h0, c0, w_ih, w_hh, None, out, reserve, False,
                                  *flags)
        wanted = [flags[0], flags[1], flags[2] and mode == "lstm", flags[3], flags[3], flags[4],
                  flags[4]]
        for got, ref, want in zip(part, full, wanted):
            if want:
                np.testing.assert_array_equal(got, ref)
            else:
                assert got is None


def test_second_backward_raises_clear_error():
    out, h_n, _ = rnn_layer(*tensors(make("gru")), mode="gru")
    h_n.sum().backward()
    # The clear error (h_n is a slice of the output: the first freed node met is that slice).
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        h_n.sum().backward()
    out, _, _ = rnn_layer(*tensors(make("gru")), mode="gru")
    out.sum().backward()
    with pytest.raises(RuntimeError, match=r"second time \(GruBackward\)"):
        out.sum().backward()


# ---------------------------------------------------------------- PyTorch parity

def torch_module(torch, mode, inputs, hidden, bias, bidirectional=False):
    cls = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM,
           "gru": torch.nn.GRU}[mode]
    kwargs = {"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}
    return cls(inputs, hidden, bias=bias, bidirectional=bidirectional, **kwargs).double()


def load(torch, module, arrays, suffix):
    """Copies (w_ih, w_hh, b_ih, b_hh) into module's parameters of one direction."""
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), arrays):
            if a is not None:
                getattr(module, f"{name}_l0{suffix}").copy_(torch.from_numpy(a))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_matches_pytorch_outputs_states_and_gradients(mode, reverse, bias):
    torch = pytest.importorskip("torch")
    steps, batch, inputs, hidden = 5, 3, 4, 3
    arrays = make(mode, steps, batch, inputs, hidden, bias)
    x, h0, c0, weights = arrays[0], arrays[1], arrays[2], arrays[3:]
    v = cotangents_for(steps, batch, hidden)
    out, h_n, c_n, grads = layer_grads(mode, arrays, reverse=reverse, cotangents=v)

    # Reverse is the second half of a bidirectional module; its first half gets no gradient.
    module = torch_module(torch, mode, inputs, hidden, bias, bidirectional=reverse)
    suffix, d = ("_reverse", 1) if reverse else ("", 0)
    load(torch, module, weights, suffix)
    tx = torch.from_numpy(x).requires_grad_()
    th0 = torch.from_numpy(np.stack([h0, h0]) if reverse else h0[None]).requires_grad_()
    if mode == "lstm":
        tc0 = torch.from_numpy(np.stack([c0, c0]) if reverse else c0[None]).requires_grad_()
        t_out, (t_h, t_c) = module(tx, (th0, tc0))
    else:
        t_out, t_h = module(tx, th0)
    t_out = t_out[..., d * hidden:(d + 1) * hidden]
    loss = (t_out * torch.from_numpy(v[0])).sum() + (t_h[d] * torch.from_numpy(v[1])).sum()
    if mode == "lstm":
        loss = loss + (t_c[d] * torch.from_numpy(v[2])).sum()
    loss.backward()

    tol = dict(rtol=1e-10, atol=1e-12)
    assert_close(out, t_out.detach().numpy(), **tol, msg="output")
    assert_close(h_n, t_h[d].detach().numpy(), **tol, msg="h_n")
    if mode == "lstm":
        assert_close(c_n, t_c[d].detach().numpy(), **tol, msg="c_n")
        assert_close(grads[2], tc0.grad[d].numpy(), **tol, msg="grad c0")
    assert_close(grads[0], tx.grad.numpy(), **tol, msg="grad input")
    assert_close(grads[1], th0.grad[d].numpy(), **tol, msg="grad h0")
    for name, got in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), grads[3:]):
        param = getattr(module, f"{name}_l0{suffix}", None)
        if got is None:
            assert param is None
        else:
            assert_close(got, param.grad.numpy(), **tol, msg=f"grad {name}")


# ---------------------------------------------------------------- masks

LENGTHS = [6, 2, 1, 4, 5]  # steps = 6: full, short, single-step and uneven samples


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_right_padded_mask_equals_each_sample_alone(mode, reverse):
    steps, batch, inputs, hidden = max(LENGTHS), len(LENGTHS), 3, 4
    arrays = make(mode, steps, batch, inputs, hidden)
    x, h0, c0, weights = arrays[0], arrays[1], arrays[2], arrays[3:]
    mask = right_padding_mask(LENGTHS, steps)
    v = cotangents_for(steps, batch, hidden)
    # Output gradients only on valid steps: what a packed-sequence loss sees.
    v_out = v[0] * mask[:, :, None]
    out, h_n, c_n, grads = layer_grads(mode, arrays, reverse, mask, (v_out, v[1], v[2]))
    weight_grads = [np.zeros_like(w) for w in weights]
    for b, length in enumerate(LENGTHS):
        alone = (x[:length, b:b + 1], h0[b:b + 1], None if c0 is None else c0[b:b + 1], *weights)
        vb = (v_out[:length, b:b + 1], v[1][b:b + 1], v[2][b:b + 1])
        a_out, a_h, a_c, a_grads = layer_grads(mode, alone, reverse, None, vb)
        tol = dict(rtol=1e-12, atol=1e-12, msg=f"sample {b} (length {length})")
        assert_close(out[:length, b], a_out[:, 0], **tol)
        assert_close(h_n[b], a_h[0], **tol)
        # Padded steps repeat the carried state: the final one forward, h0 in reverse (not run yet).
        carried = h0[b] if reverse else a_h[0]
        assert_close(out[length:, b], np.broadcast_to(carried, (steps - length, hidden)), **tol)
        assert_close(grads[0][:length, b], a_grads[0][:, 0], **tol)
        np.testing.assert_array_equal(grads[0][length:, b], 0.0)
        assert_close(grads[1][b], a_grads[1][0], **tol)
        if mode == "lstm":
            assert_close(c_n[b], a_c[0], **tol)
            assert_close(grads[2][b], a_grads[2][0], **tol)
        for total, g in zip(weight_grads, a_grads[3:]):
            total += g
    for name, got, want in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), grads[3:],
                               weight_grads):
        assert_close(got, want, rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_masked_bidirectional_matches_pytorch_packed_sequence(mode):
    torch = pytest.importorskip("torch")
    steps, batch, inputs, hidden = max(LENGTHS), len(LENGTHS), 3, 4
    x = randn(steps, batch, inputs)
    fw, bw = make(mode, 1, 1, inputs, hidden)[3:], make(mode, 1, 1, inputs, hidden)[3:]
    h0, c0 = randn(2, batch, hidden, scale=0.5), randn(2, batch, hidden, scale=0.5)
    mask = right_padding_mask(LENGTHS, steps)
    v_out, v_h, v_c = randn(steps, batch, 2 * hidden) * mask[:, :, None], randn(2, batch, hidden), randn(2, batch, hidden)

    ex = ember.tensor(x, requires_grad=True)
    e_h0, e_c0 = ember.tensor(h0, requires_grad=True), ember.tensor(c0, requires_grad=True)
    e_w = [tensors(fw), tensors(bw)]
    loss = 0
    for d in (0, 1):
        out, h_n, c_n = rnn_layer(ex, e_h0[d], e_c0[d] if mode == "lstm" else None, *e_w[d],
                                  mode=mode, reverse=bool(d), mask=mask)
        loss = loss + (out * ember.tensor(v_out[..., d * hidden:(d + 1) * hidden])).sum()
        loss = loss + (h_n * ember.tensor(v_h[d])).sum()
        if mode == "lstm":
            loss = loss + (c_n * ember.tensor(v_c[d])).sum()
        if d == 0:
            e_out_fw, e_h = out, [h_n]
        else:
            e_out_bw = out
            e_h.append(h_n)
    loss.backward()

    module = torch_module(torch, mode, inputs, hidden, True, bidirectional=True)
    load(torch, module, fw, "")
    load(torch, module, bw, "_reverse")
    tx = torch.from_numpy(x).requires_grad_()
    th0, tc0 = torch.from_numpy(h0).requires_grad_(), torch.from_numpy(c0).requires_grad_()
    packed = torch.nn.utils.rnn.pack_padded_sequence(tx, LENGTHS, enforce_sorted=False)
    if mode == "lstm":
        t_packed, (t_h, t_c) = module(packed, (th0, tc0))
    else:
        t_packed, t_h = module(packed, th0)
    t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_packed, total_length=steps)
    t_loss = (t_out * torch.from_numpy(v_out)).sum() + (t_h * torch.from_numpy(v_h)).sum()
    if mode == "lstm":
        t_loss = t_loss + (t_c * torch.from_numpy(v_c)).sum()
    t_loss.backward()

    tol = dict(rtol=1e-10, atol=1e-12)
    both = np.concatenate([e_out_fw.detach().numpy(), e_out_bw.detach().numpy()], axis=2)
    # pad_packed_sequence writes zeros at padded steps; ember repeats the carried state there.
    assert_close(both * mask[:, :, None], t_out.detach().numpy(), **tol, msg="output")
    assert_close(np.stack([h.detach().numpy() for h in e_h]), t_h.detach().numpy(), **tol,
                 msg="h_n")
    assert_close(ex.grad, tx.grad.numpy(), **tol, msg="grad input")
    assert_close(e_h0.grad, th0.grad.numpy(), **tol, msg="grad h0")
    if mode == "lstm":
        assert_close(e_c0.grad, tc0.grad.numpy(), **tol, msg="grad c0")
    for d, suffix in ((0, ""), (1, "_reverse")):
        for name, t in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), e_w[d]):
            assert_close(t.grad, getattr(module, f"{name}_l0{suffix}").grad.numpy(), **tol,
                         msg=f"grad {name}{suffix}")


@pytest.mark.parametrize("mode", MODES)
def test_fully_masked_sample_keeps_its_initial_state(mode):
    steps, batch, hidden = 3, 2, 3
    arrays = make(mode, steps, batch, 2, hidden)
    mask = np.array([[True, False]] * steps)
    v = cotangents_for(steps, batch, hidden)
    out, h_n, c_n, grads = layer_grads(mode, arrays, False, mask, v)
    h0, c0 = arrays[1], arrays[2]
    np.testing.assert_array_equal(h_n[1], h0[1])
    np.testing.assert_array_equal(out[:, 1], np.broadcast_to(h0[1], (steps, hidden)))
    np.testing.assert_array_equal(grads[0][:, 1], 0.0)
    # h0's gradient passes straight through: from every output step and from h_n.
    assert_close(grads[1][1], v[0][:, 1].sum(axis=0) + v[1][1], rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        np.testing.assert_array_equal(c_n[1], c0[1])
        np.testing.assert_array_equal(grads[2][1], v[2][1])


def test_integer_mask_equals_boolean_mask():
    arrays = make("gru", 4, 3, 2, 3)
    mask = right_padding_mask([4, 1, 3], 4)
    want = _core.rnn_forward("gru", *arrays, mask)
    # Any nonzero integer means valid, 256 included (it must not wrap to 0 as a uint8).
    for m in (mask.astype(np.uint8), mask.astype(np.int64), mask * 256, mask * -3,
              np.asfortranarray(mask)):
        got = _core.rnn_forward("gru", *arrays, m)
        np.testing.assert_array_equal(got[0], want[0])


# ---------------------------------------------------------------- float32, strides, threads

# (steps, batch, inputs, hidden, lengths): the second batch takes the kernels' fused path
FLOAT32_SHAPES = {"small": (6, 3, 4, 5, [6, 3, 5]),
                  "fused": (6, 12, 20, 40, [6, 3, 5, 1, 2, 6, 6, 4, 5, 6, 2, 3])}


@pytest.mark.parametrize("shape", list(FLOAT32_SHAPES))
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("mode", MODES)
def test_float32_agrees_with_float64(mode, reverse, shape):
    steps, batch, inputs, hidden, lengths = FLOAT32_SHAPES[shape]
    arrays = make(mode, steps=steps, batch=batch, inputs=inputs, hidden=hidden)
    mask = right_padding_mask(lengths, steps)
    v = cotangents_for(steps, batch, hidden)
    r64 = layer_grads(mode, arrays, reverse, mask, v)
    a32 = [None if a is None else a.astype(np.float32) for a in arrays]
    r32 = layer_grads(mode, a32, reverse, mask, [c.astype(np.float32) for c in v])
    flat64 = [a for a in r64[:3] + tuple(r64[3]) if a is not None]
    flat32 = [a for a in r32[:3] + tuple(r32[3]) if a is not None]
    assert len(flat32) == len(flat64)
    for got, want in zip(flat32, flat64):
        assert got.dtype == np.float32
        assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_strided_inputs_match_contiguous_copies():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make("lstm", 4, 3, 5, 3)
    # Batch-first data transposed to time-major, and a Fortran-ordered weight.
    xs = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
    ws = np.asfortranarray(w_ih)
    assert not xs.flags.c_contiguous and not ws.flags.c_contiguous
    want = _core.rnn_forward("lstm", x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    got = _core.rnn_forward("lstm", xs, h0, c0, ws, w_hh, b_ih, b_hh)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_same_result_with_one_and_two_threads(restore_threads, mode, dtype):
    # B = H = 64: the per-sample gate loops and the column sums take their parallel paths.
    # The forward pass (gates split by sample, small inner dimensions) is bitwise independent
    # of the thread count. The backward products with inner dimension G*H or T*B (grad_input,
    # the recurrent dh product, the weight gradients) are threaded by Eigen, whose k-blocking
    # depends on the thread count: measured up to ~4 ulps of the largest value, so those are
    # compared to 16 ulps of it.
    steps, batch, inputs, hidden = 5, 64, 32, 64
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make(mode, steps, batch, inputs, hidden, dtype=dtype)
    mask = right_padding_mask(rng.integers(1, steps + 1, batch), steps)
    g = randn(steps, batch, hidden, dtype=dtype)
    gc = randn(batch, hidden, dtype=dtype) if mode == "lstm" else None
    results = []
    for threads in (1, 2, 1):
        _core.set_num_threads(threads)
        assert _core.get_num_threads() == threads
        run = []
        for reverse in (False, True):
            forward = _core.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse)
            out, _, reserve = forward
            backward = _core.rnn_backward(mode, g, gc, x, h0, c0, w_ih, w_hh, mask, out, reserve,
                                          reverse)
            run.append((forward, backward))
        results.append(run)
    for other in results[1:]:
        for (f1, b1), (f2, b2) in zip(results[0], other):
            for one, two in zip(f1, f2):
                if one is None:
                    assert two is None
                else:
                    np.testing.assert_array_equal(one, two)
            for one, two in zip(b1, b2):
                if one is None:
                    assert two is None
                else:
                    scale = float(np.abs(one).max())
                    assert_close(two, one, rtol=0, atol=16 * np.finfo(dtype).eps * scale)
    # 1 thread, twice: bitwise identical.
    for (f1, b1), (f2, b2) in zip(results[0], results[2]):
        for one, two in zip(f1 + b1, f2 + b2):
            if one is not None:
                np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_reserve_is_zero_at_masked_steps(mode):
    # The reserve goes back to Python: it must not hold uninitialised memory where steps are
    # skipped (the kernel once left those rows unwritten).
    arrays = make(mode, 5, 8, 3, 4)
    mask = right_padding_mask([5, 1, 2, 3, 4, 5, 1, 2], 5)
    _, _, reserve = _core.rnn_forward(mode, *arrays, mask)
    # Two blocks: gate activations (steps, batch, G*H), then (steps, batch, H) of c_t (LSTM,
    # carried over at skipped steps) or W_hn h + b_hn (GRU).
    flat = reserve.reshape(-1)
    gates = flat[:5 * 8 * GATES[mode] * 4].reshape(5, 8, -1)
    extra = flat[5 * 8 * GATES[mode] * 4:].reshape(5, 8, 4)
    np.testing.assert_array_equal(gates[~mask], 0.0)
    if mode == "gru":
        np.testing.assert_array_equal(extra[~mask], 0.0)
    assert np.isfinite(reserve).all()


# ---------------------------------------------------------------- bad input

def forward_args(mode="lstm", **changes):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = make(mode, steps=4, batch=3, inputs=5, hidden=2)
    args = dict(mode=mode, input=x, h0=h0, c0=c0, weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih,
                bias_hh=b_hh, mask=None, reverse=False)
    args.update(changes)
    return args


@pytest.mark.parametrize("changes,fragments", [
    (dict(input=randn(3, 5)), ["input must be (steps, batch, input_size)", "(3, 5)"]),
    (dict(input=randn(1, 4, 3, 5)), ["input must be", "(1, 4, 3, 5)"]),
    (dict(input=randn(0, 3, 5)), ["at least one step", "(0, 3, 5)"]),
    (dict(input=randn(4, 3, 6)), ["weight_ih must be (8, 6)", "(4, 3, 6)", "(8, 5)"]),
    (dict(weight_ih=randn(8, 4)), ["weight_ih must be (8, 5)", "(4, 3, 5)", "(8, 4)"]),
    (dict(weight_ih=randn(6, 5)), ["weight_ih must be (8, 5)", "(6, 5)"]),
    (dict(weight_hh=randn(8, 3)), ["weight_hh must be (8, 2)", "(8, 3)"]),
    (dict(weight_hh=randn(6, 2)), ["weight_hh must be (4 * hidden_size, hidden_size)", "(6, 2)"]),
    (dict(weight_hh=randn(8)), ["weight_hh must be", "(8,)"]),
    (dict(h0=randn(2, 2)), ["h0 must be (3, 2)", "(4, 3, 5)", "(2, 2)"]),
    (dict(h0=randn(1, 3, 2)), ["h0 must be (3, 2)", "(1, 3, 2)"]),
    (dict(c0=randn(3, 3)), ["c0 must be (3, 2)", "(3, 3)"]),
    (dict(bias_ih=randn(6)), ["bias_ih must have shape (8,)", "(6,)"]),
    (dict(bias_hh=randn(8, 1)), ["bias_hh must have shape (8,)", "(8, 1)"]),
    (dict(mask=np.ones((3, 4), bool)), ["mask must have shape (4, 3)", "(3, 4)"]),
    (dict(mask=np.ones(4, bool)), ["mask must have shape (4, 3)", "(4,)"]),
    (dict(mode="gru"), ["weight_hh must be (3 * hidden_size, hidden_size)", "(8, 2)"]),
])
def test_forward_shape_errors_name_op_and_shapes(changes, fragments):
    args = forward_args()  # LSTM arrays; changes may also swap the mode
    args.update(changes)
    with pytest.raises(_core.ShapeError, match="^rnn: ") as info:
        _core.rnn_forward(**args)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_lstm_without_c0_and_bad_mode_raise_value_error():
    with pytest.raises(ValueError, match="rnn: LSTM needs c0") as info:
        _core.rnn_forward(**forward_args(c0=None))
    assert not isinstance(info.value, _core.ShapeError)
    with pytest.raises(ValueError, match="rnn: mode must be 'rnn_tanh', 'rnn_relu', 'lstm' or "
                                         "'gru', got 'lstm2'"):
        _core.rnn_forward(**{**forward_args(), "mode": "lstm2"})
    x, h0, _, w_ih, w_hh, *_ = make("gru")
    with pytest.raises(ValueError, match=r"rnn_layer: mode must be one of .*got 'GRU'"):
        rnn_layer(*tensors((x, h0, None, w_ih, w_hh), False), mode="GRU")


@pytest.mark.parametrize("name", ["input", "h0", "c0", "weight_ih", "weight_hh", "bias_ih",
                                  "bias_hh"])
def test_mixed_float_dtypes_raise_type_error(name):
    args = forward_args()
    args[name] = args[name].astype(np.float32)
    if name == "input":  # float32 input with float64 weights: the weights are the mismatch
        match = r"rnn: h0 has dtype float64 but expected float32.*shape \(3, 2\)"
    else:
        match = rf"rnn: {name} has dtype float32 but expected float64.*shape \("
    with pytest.raises(TypeError, match=match):
        _core.rnn_forward(**args)


def test_non_float_input_and_bad_mask_dtype_raise():
    with pytest.raises(TypeError, match=r"rnn: expected a float32 or float64 array.*\(4, 3, 5\)"):
        _core.rnn_forward(**forward_args(input=np.ones((4, 3, 5), np.int64)))
    with pytest.raises(TypeError, match=r"rnn: mask must be boolean or integer, got dtype "
                                        r"float64 with shape \(4, 3\)"):
        _core.rnn_forward(**forward_args(mask=np.ones((4, 3))))


def backward_args(mode="lstm", **changes):
    f = forward_args(mode)
    out, c_n, reserve = _core.rnn_forward(**f)
    args = dict(mode=mode, grad_output=np.ones_like(out), grad_c_n=np.ones_like(c_n),
                input=f["input"], h0=f["h0"], c0=f["c0"], weight_ih=f["weight_ih"],
                weight_hh=f["weight_hh"], mask=None, output=out, reserve=reserve)
    args.update(changes)
    return args


@pytest.mark.parametrize("changes,fragments", [
    (dict(grad_output=np.ones((4, 3, 3))), ["grad_output must have shape (4, 3, 2)", "(4, 3, 3)"]),
    (dict(output=np.ones((3, 3, 2))), ["output must have shape (4, 3, 2)", "(3, 3, 2)"]),
    (dict(reserve=np.ones((4, 3, 8))), ["reserve has shape (4, 3, 8), expected (4, 3, 10)"]),
    (dict(reserve=np.ones((4, 10))), ["reserve has shape (4, 10)", "(4, 3, 10)"]),
    (dict(grad_c_n=np.ones((3, 3))), ["grad_c_n must have shape (3, 2)", "(3, 3)"]),
    (dict(mask=np.ones((4, 2), bool)), ["mask must have shape (4, 3)", "(4, 2)"]),
    (dict(h0=np.ones((3, 3))), ["h0 must be (3, 2)", "(3, 3)"]),
])
def test_backward_shape_errors_name_op_and_shapes(changes, fragments):
    with pytest.raises(_core.ShapeError, match="^rnn_backward: ") as info:
        _core.rnn_backward(**backward_args(**changes))
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))


def test_backward_gru_reserve_of_lstm_width_is_rejected():
    args = backward_args("gru", grad_c_n=None, reserve=np.ones((4, 3, 10)))
    with pytest.raises(_core.ShapeError, match=r"rnn_backward: reserve has shape \(4, 3, 10\), "
                                               r"expected \(4, 3, 8\)"):
        _core.rnn_backward(**args)
