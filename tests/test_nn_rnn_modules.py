"""ember.nn recurrent modules (RNN, LSTM, GRU, the cells), Embedding and nn.utils gradient
clipping: PyTorch parity of outputs, final states and every gradient (input, initial states,
each parameter) on identical weights loaded from torch's state_dict; state_dict names and
order; initialisation; inter-layer dropout; reprs; errors. The kernels' own float64 gradchecks
live in the kernel test file."""
import collections
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.testing import assert_close

# float64 results differ from torch's only by summation order; float32 by a few ulps per step
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-4, atol=2e-5)}
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
INPUT, HIDDEN = 5, 6


def _torch():
    return pytest.importorskip("torch")


def _make(lib_nn, kind, input_size=INPUT, hidden_size=HIDDEN, **kw):
    if kind.startswith("rnn_"):
        return lib_nn.RNN(input_size, hidden_size, nonlinearity=kind[4:], **kw)
    return {"lstm": lib_nn.LSTM, "gru": lib_nn.GRU}[kind](input_size, hidden_size, **kw)


def _numpy_state(module):
    return collections.OrderedDict((k, v.detach().numpy()) for k, v in module.state_dict().items())


def _pair(kind, dtype, **kw):
    """torch and ember modules with identical weights (ember's loaded from torch's, via NumPy)."""
    torch = _torch()
    tm = _make(torch.nn, kind, **kw).to(getattr(torch, dtype))
    em = _make(nn, kind, dtype=getattr(ember, dtype), **kw)
    em.load_state_dict(_numpy_state(tm))
    return tm, em


def _tensors(torch, array):
    return (torch.tensor(array, requires_grad=True), ember.tensor(array, requires_grad=True))


def _check_sequence_parity(kind, dtype, num_layers=1, bidirectional=False, batch_first=False,
                           bias=True, steps=4, batch=3, given_state=True, unbatched=False,
                           seed=0):
    """output, h_n (and c_n) and the gradients of input, h0 (c0) and every parameter equal
    torch's, for a loss that weights every output and final state randomly."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    tm, em = _pair(kind, dtype, num_layers=num_layers, bidirectional=bidirectional,
                   batch_first=batch_first, bias=bias)
    directions = 2 if bidirectional else 1
    if unbatched:
        x_shape, s_shape = (steps, INPUT), (num_layers * directions, HIDDEN)
    else:
        x_shape = (batch, steps, INPUT) if batch_first else (steps, batch, INPUT)
        s_shape = (num_layers * directions, batch, HIDDEN)
    tx, ex = _tensors(torch, rng.standard_normal(x_shape).astype(dtype))
    states = []
    if given_state:
        states = [_tensors(torch, rng.standard_normal(s_shape).astype(dtype))
                  for _ in range(2 if kind == "lstm" else 1)]
    if kind == "lstm":
        t_hx = tuple(s[0] for s in states) if states else None
        e_hx = tuple(s[1] for s in states) if states else None
        t_out, (t_h, t_c) = tm(tx, t_hx)
        e_out, (e_h, e_c) = em(ex, e_hx)
        pairs = [(e_out, t_out), (e_h, t_h), (e_c, t_c)]
    else:
        t_out, t_h = tm(tx, states[0][0] if states else None)
        e_out, e_h = em(ex, states[0][1] if states else None)
        pairs = [(e_out, t_out), (e_h, t_h)]
    t_loss, e_loss = 0, 0
    for i, (e, t) in enumerate(pairs):
        assert tuple(e.shape) == tuple(t.shape), i
        assert e.dtype == getattr(ember, dtype)
        assert_close(e, t.detach().numpy(), **TOL[dtype], msg=f"result {i}")
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        t_loss = t_loss + (t * torch.tensor(w)).sum()
        e_loss = e_loss + (e * ember.tensor(w)).sum()
    t_loss.backward()
    e_loss.backward()
    assert_close(ex.grad, tx.grad.numpy(), **TOL[dtype], msg="input grad")
    for i, (ts, es) in enumerate(states):
        assert_close(es.grad, ts.grad.numpy(), **TOL[dtype], msg=f"state {i} grad")
    t_params, e_params = dict(tm.named_parameters()), dict(em.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        assert e_params[name].grad is not None, name
        assert_close(e_params[name].grad, tp.grad.numpy(), **TOL[dtype], msg=name)


# ---- sequence modules: parity --------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity_float64(kind, num_layers, bidirectional, batch_first, bias):
    _check_sequence_parity(kind, "float64", num_layers, bidirectional, batch_first, bias)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_default_initial_state_parity(kind, bidirectional):
    _check_sequence_parity(kind, "float64", num_layers=2, bidirectional=bidirectional,
                           given_state=False)


@pytest.mark.parametrize("config", [dict(num_layers=1), dict(num_layers=2, bidirectional=True,
                                                              batch_first=True)])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity_float32(kind, config):
    _check_sequence_parity(kind, "float32", steps=6, batch=4, **config)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity_large_batch(kind, batch_first, dtype):
    # From 8 samples on the kernels compute each step's input projection inside the step.
    _check_sequence_parity(kind, dtype, num_layers=2, bidirectional=True, batch_first=batch_first,
                           steps=5, batch=11)


@pytest.mark.parametrize("steps,batch", [(1, 1), (2, 1), (1, 3)])
@pytest.mark.parametrize("kind", KINDS)
def test_short_sequences_and_batch_one(kind, steps, batch):
    _check_sequence_parity(kind, "float64", num_layers=2, bidirectional=True, steps=steps,
                           batch=batch)


@pytest.mark.parametrize("given_state", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_parity(kind, batch_first, given_state):
    _check_sequence_parity(kind, "float64", num_layers=2, bidirectional=True,
                           batch_first=batch_first, given_state=given_state, unbatched=True)


def test_loads_torch_state_dict_directly_and_matches_forward():
    torch = _torch()
    tm = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
    em = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
    em.load_state_dict(tm.state_dict())  # torch tensors go in through .numpy()
    x = np.random.default_rng(1).standard_normal((2, 7, INPUT)).astype("float32")
    with torch.no_grad():
        t_out, (t_h, t_c) = tm(torch.tensor(x))
    e_out, (e_h, e_c) = em(ember.tensor(x))
    for e, t in ((e_out, t_out), (e_h, t_h), (e_c, t_c)):
        assert_close(e, t.numpy(), **TOL["float32"])


def test_last_step_output_is_final_forward_state():
    """output[-1] holds the forward direction's h_n; the reverse half of output[0] holds the
    reverse direction's h_n (PyTorch's layout)."""
    em = nn.GRU(INPUT, HIDDEN, bidirectional=True, dtype=ember.float64)
    x = ember.randn(5, 2, INPUT, dtype=ember.float64)
    out, h_n = em(x)
    assert_close(out[-1, :, :HIDDEN], h_n[0])
    assert_close(out[0, :, HIDDEN:], h_n[1])


# ---- sequence modules: parameters, state_dict, init, repr ----------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_keys_order_and_shapes_match_torch(kind, bidirectional, bias):
    torch = _torch()
    tm = _make(torch.nn, kind, num_layers=3, bidirectional=bidirectional, bias=bias)
    em = _make(nn, kind, num_layers=3, bidirectional=bidirectional, bias=bias)
    t_state, e_state = tm.state_dict(), em.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        assert tuple(e_state[key].shape) == tuple(t_state[key].shape), key
    assert [list(map(tuple, (p.shape for p in ws))) for ws in em.all_weights] == \
        [list(map(tuple, (p.shape for p in ws))) for ws in tm.all_weights]
    assert em._flat_weights_names == tm._flat_weights_names


@pytest.mark.parametrize("kind", KINDS)
def test_default_init_is_uniform_within_one_over_sqrt_hidden(kind):
    ember.manual_seed(0)
    hidden = 64
    em = _make(nn, kind, input_size=32, hidden_size=hidden, num_layers=2, bidirectional=True)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.detach().numpy().ravel() for p in em.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound
    # U(-b, b): mean 0, standard deviation b / sqrt(3)
    assert abs(values.mean()) < 0.01 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound
    for name, p in em.named_parameters():
        assert np.abs(p.detach().numpy()).max() > 0.5 * bound, name


@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2), dict(bias=False),
                                dict(batch_first=True), dict(num_layers=3, dropout=0.25),
                                dict(bidirectional=True),
                                dict(num_layers=2, bias=False, batch_first=True, dropout=0.5,
                                     bidirectional=True)])
@pytest.mark.parametrize("kind", KINDS)
def test_repr_matches_torch(kind, kw):
    torch = _torch()
    assert repr(_make(nn, kind, **kw)) == repr(_make(torch.nn, kind, **kw))


def test_flatten_parameters_is_a_no_op():
    em = nn.LSTM(INPUT, HIDDEN, dtype=ember.float64)
    x = ember.randn(3, 2, INPUT, dtype=ember.float64)
    before = em(x)[0].detach().numpy()
    assert em.flatten_parameters() is None
    np.testing.assert_array_equal(em(x)[0].detach().numpy(), before)


def test_float64_module_and_to_double():
    em = nn.GRU(INPUT, HIDDEN, num_layers=2)
    assert all(p.dtype == ember.float32 for p in em.parameters())
    em.double()
    out, h = em(ember.randn(3, 2, INPUT, dtype=ember.float64))
    assert out.dtype == ember.float64 and h.dtype == ember.float64


# ---- inter-layer dropout -------------------------------------------------------------------
def _passthrough_second_layer(p):
    """A 2-layer relu RNN whose second layer outputs relu(its input): with positive first-layer
    outputs, the module's output is exactly the dropped-out first-layer output."""
    em = nn.RNN(INPUT, 40, num_layers=2, nonlinearity="relu", dropout=p, dtype=ember.float64)
    with ember.no_grad():
        em.weight_ih_l0.copy_(em.weight_ih_l0.abs())
        em.weight_hh_l0.copy_(em.weight_hh_l0.abs())
        em.bias_ih_l0.fill_(0.1)
        em.bias_hh_l0.fill_(0.0)
        em.weight_ih_l1.copy_(ember.eye(40, dtype=ember.float64))
        em.weight_hh_l1.zero_()
        em.bias_ih_l1.zero_()
        em.bias_hh_l1.zero_()
    return em


def test_dropout_between_layers_only_in_training():
    p = 0.3
    em = _passthrough_second_layer(p)
    x = ember.tensor(np.abs(np.random.default_rng(0).standard_normal((50, 8, INPUT))) + 0.1)
    em.eval()
    clean, h_clean = em(x)
    clean = clean.detach().numpy()
    assert (clean > 0).all()
    # eval: deterministic, no dropout
    np.testing.assert_array_equal(em(x)[0].detach().numpy(), clean)
    em.train()
    ember.manual_seed(0)
    noisy, h_noisy = em(x)
    noisy = noisy.detach().numpy()
    dropped = noisy == 0
    n = dropped.size
    # each first-layer output is zeroed with probability p (4.5 standard deviations)
    assert abs(dropped.mean() - p) < 4.5 * math.sqrt(p * (1 - p) / n)
    # survivors are scaled by 1 / (1 - p); the first layer's own final state is untouched
    assert_close(noisy[~dropped], clean[~dropped] / (1 - p), rtol=1e-12, atol=1e-12)
    assert_close(h_noisy[0], h_clean[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    # the last layer's output is not dropped: its h_n equals its (dropped-out) last output
    assert_close(h_noisy[1], noisy[-1], rtol=1e-12, atol=1e-12)


def test_dropout_backward_uses_the_forward_mask():
    em = _passthrough_second_layer(0.5)
    x = ember.tensor(np.abs(np.random.default_rng(1).standard_normal((6, 4, INPUT))) + 0.1)
    ember.manual_seed(3)
    out, _ = em(x)
    out.sum().backward()
    y = out.detach().numpy()  # = dropped-out layer-0 output, the second layer's input
    kept = (y > 0).astype(np.float64)
    assert kept.any() and not kept.all()
    # out = relu(W x) with W = I: d sum(out) / d W[i, j] = sum over (t, b) of kept_i * x_j
    expected = np.einsum("tbi,tbj->ij", kept, y)
    assert_close(em.weight_ih_l1.grad, expected, rtol=1e-12, atol=1e-12)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(INPUT, HIDDEN, dropout=0.2)


# ---- cells -----------------------------------------------------------------------------------
def _make_cell(lib_nn, kind, bias=True):
    if kind.startswith("rnn_"):
        return lib_nn.RNNCell(INPUT, HIDDEN, bias=bias, nonlinearity=kind[4:])
    return {"lstm": lib_nn.LSTMCell, "gru": lib_nn.GRUCell}[kind](INPUT, HIDDEN, bias=bias)


@pytest.mark.parametrize("given_state", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_cell_parity(kind, bias, batched, given_state):
    torch = _torch()
    rng = np.random.default_rng(2)
    tm = _make_cell(torch.nn, kind, bias).double()
    em = _make_cell(nn, kind, bias).double()
    em.load_state_dict(_numpy_state(tm))
    assert list(em.state_dict()) == list(tm.state_dict())
    lead = (3,) if batched else ()
    tx, ex = _tensors(torch, rng.standard_normal(lead + (INPUT,)))
    states = [_tensors(torch, rng.standard_normal(lead + (HIDDEN,)))
              for _ in range((2 if kind == "lstm" else 1) if given_state else 0)]
    if kind == "lstm":
        t_res = tm(tx, tuple(s[0] for s in states) if states else None)
        e_res = em(ex, tuple(s[1] for s in states) if states else None)
    else:
        t_res = (tm(tx, states[0][0] if states else None),)
        e_res = (em(ex, states[0][1] if states else None),)
    t_loss, e_loss = 0, 0
    for e, t in zip(e_res, t_res):
        assert tuple(e.shape) == tuple(t.shape)
        assert_close(e, t.detach().numpy(), **TOL["float64"])
        w = rng.standard_normal(tuple(t.shape))
        t_loss = t_loss + (t * torch.tensor(w)).sum()
        e_loss = e_loss + (e * ember.tensor(w)).sum()
    t_loss.backward()
    e_loss.backward()
    assert_close(ex.grad, tx.grad.numpy(), **TOL["float64"])
    for ts, es in states:
        assert_close(es.grad, ts.grad.numpy(), **TOL["float64"])
    for name, tp in tm.named_parameters():
        assert_close(em.get_parameter(name).grad, tp.grad.numpy(), **TOL["float64"], msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_repr_init_and_dtype(kind):
    torch = _torch()
    for bias in (True, False):
        assert repr(_make_cell(nn, kind, bias)) == repr(_make_cell(torch.nn, kind, bias))
    em = _make_cell(nn, kind)
    bound = 1 / math.sqrt(HIDDEN)
    for name, p in em.named_parameters():
        assert p.dtype == ember.float32
        assert np.abs(p.detach().numpy()).max() <= bound, name


def test_cell_errors():
    cell = nn.LSTMCell(10, 20)
    with pytest.raises(ember.ShapeError, match="Expected input to be 1D or 2D, got 3D"):
        cell(ember.randn(2, 3, 10))
    with pytest.raises(ember.ShapeError, match="input has inconsistent input_size: got 7 "
                                               "expected 10"):
        cell(ember.randn(3, 7))
    with pytest.raises(ember.ShapeError, match="hidden0 has inconsistent hidden_size: got 5, "
                                               "expected 20"):
        cell(ember.randn(3, 10), (ember.randn(3, 5), ember.randn(3, 20)))
    with pytest.raises(ember.ShapeError, match="Input batch size 3 doesn't match hidden1 batch "
                                               "size 2"):
        cell(ember.randn(3, 10), (ember.randn(3, 20), ember.randn(2, 20)))
    with pytest.raises(ember.ShapeError, match="Input batch size 3 doesn't match hidden0"):
        nn.GRUCell(10, 20)(ember.randn(3, 10), ember.randn(2, 20))
    with pytest.raises(ember.ShapeError, match="Expected hidden to be 1D or 2D, got 3D"):
        nn.RNNCell(10, 20)(ember.randn(3, 10), ember.randn(1, 3, 20))
    with pytest.raises(ValueError, match="RNNCell: Unknown nonlinearity 'sigmoid'"):
        nn.RNNCell(10, 20, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="does not match weight dtype"):
        nn.GRUCell(10, 20)(ember.randn(3, 10, dtype=ember.float64))


# ---- sequence modules: errors ----------------------------------------------------------------
def test_input_errors_match_torch_messages():
    lstm = nn.LSTM(10, 20, num_layers=2)
    with pytest.raises(ember.ShapeError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(ember.randn(5, 3, 2, 10))
    with pytest.raises(ember.ShapeError, match=r"input.size\(-1\) must be equal to input_size. "
                                               "Expected 10, got 7"):
        lstm(ember.randn(5, 3, 7))
    with pytest.raises(ember.ShapeError, match=r"Expected hidden\[0\] size \(2, 3, 20\), got "
                                               r"\[1, 3, 20\]"):
        lstm(ember.randn(5, 3, 10), (ember.randn(1, 3, 20), ember.randn(2, 3, 20)))
    with pytest.raises(ember.ShapeError, match=r"Expected hidden\[1\] size \(2, 3, 20\), got "
                                               r"\[2, 4, 20\]"):
        lstm(ember.randn(5, 3, 10), (ember.randn(2, 3, 20), ember.randn(2, 4, 20)))
    with pytest.raises(ember.ShapeError, match=r"For batched 3-D input, hx and cx should also be "
                                               r"3-D but got \(2-D, 3-D\) tensors"):
        lstm(ember.randn(5, 3, 10), (ember.randn(3, 20), ember.randn(2, 3, 20)))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        lstm(ember.randn(5, 3, 10), ember.randn(2, 3, 20))
    gru = nn.GRU(10, 20, num_layers=2)
    with pytest.raises(ember.ShapeError, match=r"Expected hidden size \(2, 3, 20\), got "
                                               r"\[1, 3, 20\]"):
        gru(ember.randn(5, 3, 10), ember.randn(1, 3, 20))
    with pytest.raises(ember.ShapeError, match="For unbatched 2-D input, hx should also be 2-D "
                                               "but got 3-D tensor"):
        gru(ember.randn(5, 10), ember.randn(2, 1, 20))
    with pytest.raises(ember.ShapeError, match="sequence length to be larger than 0"):
        gru(ember.randn(0, 3, 10))
    with pytest.raises(ValueError, match=r"RNN input dtype \(ember.float64\) does not match "
                                         r"weight dtype \(ember.float32\)"):
        nn.RNN(10, 20)(ember.randn(5, 3, 10, dtype=ember.float64))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        gru(ember.randn(5, 3, 10), ember.randn(2, 3, 20, dtype=ember.float64))
    with pytest.raises(TypeError, match="input must be an ember.Tensor"):
        gru(np.zeros((5, 3, 10), dtype=np.float32))


@pytest.mark.parametrize("make,exc,match", [
    (lambda: nn.LSTM(10, 0), ValueError, "LSTM: hidden_size must be greater than zero"),
    (lambda: nn.GRU(0, 5), ValueError, "GRU: input_size must be greater than zero"),
    (lambda: nn.RNN(10, 5, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.LSTM(10.0, 5), TypeError, "input_size should be of type int, got: float"),
    (lambda: nn.GRU(10, 5, bias=1), TypeError, "bias should be of type bool, got: int"),
    (lambda: nn.GRU(10, 5, batch_first="yes"), TypeError, "batch_first should be of type bool"),
    (lambda: nn.LSTM(10, 5, num_layers=2, dropout=1.5), ValueError,
     r"dropout should be a number in range \[0, 1\]"),
    (lambda: nn.RNN(10, 5, nonlinearity="sigmoid"), ValueError,
     "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'"),
    (lambda: nn.LSTM(10, 5, proj_size=3), NotImplementedError, "proj_size"),
    (lambda: nn.LSTM(10, 5, proj_size=-1), ValueError, "proj_size should be a positive integer"),
    (lambda: nn.GRU(10, 5, proj_size=3), ValueError, "proj_size argument is only supported for "
                                                     "LSTM, not RNN or GRU"),
    (lambda: nn.RNN(10, 5, proj_size=3), ValueError, "only supported for LSTM"),
    (lambda: nn.LSTM(10, 5, device="cuda"), NotImplementedError, "CPU only"),
    (lambda: nn.GRUCell(10, 0), ValueError, "GRUCell: hidden_size must be greater than zero"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


# ---- Embedding -------------------------------------------------------------------------------
def _embedding_pair(torch, dtype="float64", **kw):
    tm = torch.nn.Embedding(12, 4, **kw).to(getattr(torch, dtype))
    em = nn.Embedding(12, 4, dtype=getattr(ember, dtype), **kw)
    em.load_state_dict(_numpy_state(tm))
    return tm, em


@pytest.mark.parametrize("padding_idx", [None, 3, -2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_parity_and_padding_gradient(dtype, padding_idx):
    torch = _torch()
    tm, em = _embedding_pair(torch, dtype, padding_idx=padding_idx)
    idx = np.array([[1, 3, 3, 10], [0, 11, 1, 3]])  # repeated ids accumulate gradient
    ty, ey = tm(torch.tensor(idx)), em(ember.tensor(idx))
    assert tuple(ey.shape) == (2, 4, 4) and ey.dtype == getattr(ember, dtype)
    assert_close(ey, ty.detach().numpy(), **TOL[dtype])
    w = np.random.default_rng(0).standard_normal((2, 4, 4)).astype(dtype)
    (ty * torch.tensor(w)).sum().backward()
    (ey * ember.tensor(w)).sum().backward()
    assert_close(em.weight.grad, tm.weight.grad.numpy(), **TOL[dtype])
    if padding_idx is not None:
        row = padding_idx % 12
        assert em.padding_idx == tm.padding_idx == row
        assert np.all(em.weight.grad.numpy()[row] == 0)


def test_embedding_init_and_repr():
    torch = _torch()
    ember.manual_seed(0)
    em = nn.Embedding(2000, 16, padding_idx=5)
    w = em.weight.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (2000, 16)
    assert np.all(w[5] == 0)
    others = np.delete(w, 5, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1)
    for kw in (dict(), dict(padding_idx=-1), dict(padding_idx=0)):
        assert repr(nn.Embedding(10, 3, **kw)) == repr(torch.nn.Embedding(10, 3, **kw))
    assert list(em.state_dict()) == ["weight"]


def test_embedding_any_index_shape():
    em = nn.Embedding(7, 3)
    assert tuple(em(ember.tensor(4)).shape) == (3,)
    assert tuple(em(ember.tensor([[[1], [2]]])).shape) == (1, 2, 1, 3)
    assert_close(em(ember.tensor([6, 0])), em.weight.detach().numpy()[[6, 0]])


def test_embedding_out_of_range_index_raises():
    em = nn.Embedding(10, 3)
    for bad in ([0, 10], [-1, 2]):
        # PyTorch raises IndexError ("index out of range in self")
        with pytest.raises((IndexError, ValueError), match="out of range"):
            em(ember.tensor(bad))
    with pytest.raises(TypeError, match="integers"):
        em(ember.tensor([1.0]))


def test_embedding_from_pretrained():
    weights = ember.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3], [0.5, 0.5, 0.5]])
    em = nn.Embedding.from_pretrained(weights)
    assert not em.weight.requires_grad
    assert (em.num_embeddings, em.embedding_dim) == (3, 3)
    assert_close(em(ember.tensor([1])), np.array([[4.0, 5.1, 6.3]], dtype=np.float32))
    with ember.no_grad():
        weights[0, 0] = 9.0  # the weight shares the given tensor's memory, as in PyTorch
    assert em.weight.numpy()[0, 0] == 9.0
    trainable = nn.Embedding.from_pretrained(weights, freeze=False, padding_idx=2)
    assert trainable.weight.requires_grad
    # the padding row is kept as given, not zeroed
    assert np.all(trainable.weight.detach().numpy()[2] == 0.5)
    trainable(ember.tensor([0, 2, 2])).sum().backward()
    assert_close(trainable.weight.grad, np.array([[1, 1, 1], [0, 0, 0], [0, 0, 0]], np.float32))


@pytest.mark.parametrize("make,exc,match", [
    (lambda: nn.Embedding(10, 3, max_norm=1.0), NotImplementedError, "max_norm"),
    (lambda: nn.Embedding(10, 3, sparse=True), NotImplementedError, "sparse"),
    (lambda: nn.Embedding(10, 3, scale_grad_by_freq=True), NotImplementedError,
     "scale_grad_by_freq"),
    (lambda: nn.Embedding(10, 3, padding_idx=10), ValueError, "Padding_idx must be within"),
    (lambda: nn.Embedding(10, 3, padding_idx=-11), ValueError, "Padding_idx must be within"),
    (lambda: nn.Embedding(-1, 3), ValueError, "num_embeddings"),
    (lambda: nn.Embedding(10, 3, _weight=ember.zeros(3, 10)), ValueError,
     "Shape of weight does not match"),
    (lambda: nn.Embedding.from_pretrained(ember.zeros(3)), ValueError, "2-dimensional"),
])
def test_embedding_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


# ---- gradient clipping -----------------------------------------------------------------------
def _params_with_grads(torch, dtype, scale=1.0, seed=0):
    """The same three parameters (one without gradient) in torch and ember."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (5,), (2, 2, 2)]
    t_params, e_params = [], []
    for i, shape in enumerate(shapes):
        value = rng.standard_normal(shape).astype(dtype)
        tp, ep = torch.nn.Parameter(torch.tensor(value)), nn.Parameter(ember.tensor(value))
        if i != 2:
            grad = (scale * rng.standard_normal(shape)).astype(dtype)
            tp.grad, ep.grad = torch.tensor(grad), ember.tensor(grad)
        t_params.append(tp)
        e_params.append(ep)
    return t_params, e_params


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_matches_torch(dtype, max_norm, norm_type):
    torch = _torch()
    t_params, e_params = _params_with_grads(torch, dtype)
    norm_type = float(norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type)
    e_total = nn.utils.clip_grad_norm_(iter(e_params), max_norm, norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.dim() == 0
    assert e_total.dtype == getattr(ember, dtype)
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    assert_close(e_total, t_total.numpy(), **tol)
    for tp, ep in zip(t_params, e_params):
        if tp.grad is None:
            assert ep.grad is None
        else:
            assert_close(ep.grad, tp.grad.numpy(), **tol)


def test_clip_grad_norm_never_scales_up_and_accepts_a_tensor():
    torch = _torch()
    t_params, e_params = _params_with_grads(torch, "float64", scale=1e-3)
    before = e_params[0].grad.numpy().copy()
    total = nn.utils.clip_grad_norm_(e_params[0], max_norm=10.0)
    t_total = torch.nn.utils.clip_grad_norm_(t_params[0], max_norm=10.0)
    assert_close(total, t_total.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(e_params[0].grad.numpy(), before)  # coefficient clamped to 1


def test_clip_grad_norm_scales_to_max_norm():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    assert_close(p.grad, np.array([0.6, 0.8], np.float32) * 5.0 / (5.0 + 1e-6), rtol=1e-6,
                 atol=0)


def test_clip_grad_norm_non_finite():
    torch = _torch()
    t_params, e_params = _params_with_grads(torch, "float32")
    e_params[0].grad._array[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(e_params, 1.0, error_if_nonfinite=True)
    assert np.isnan(e_params[0].grad.numpy()[0, 0])  # untouched by the failed call
    e_params[1].grad._array[:] = np.inf
    e_params[0].grad._array[0, 0] = 1.0
    t_params[1].grad[:] = math.inf
    t_params[0].grad[0, 0] = 1.0
    e_total = nn.utils.clip_grad_norm_(e_params, 1.0)  # default: scaled anyway, like torch
    t_total = torch.nn.utils.clip_grad_norm_(t_params, 1.0)
    assert math.isinf(e_total.item()) and math.isinf(t_total.item())
    for tp, ep in zip(t_params[:2], e_params[:2]):
        np.testing.assert_array_equal(ep.grad.numpy(), tp.grad.numpy())


def test_clip_grad_norm_without_gradients():
    p = nn.Parameter(ember.ones(3))
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == 0.0 and p.grad is None
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((q for q in []), 1.0)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 10])
def test_clip_grad_value_matches_torch(clip_value):
    torch = _torch()
    t_params, e_params = _params_with_grads(torch, "float32", scale=2.0)
    torch.nn.utils.clip_grad_value_(t_params, clip_value)
    assert nn.utils.clip_grad_value_(e_params, clip_value) is None
    for tp, ep in zip(t_params, e_params):
        if tp.grad is not None:
            np.testing.assert_array_equal(ep.grad.numpy(), tp.grad.numpy())
    assert e_params[2].grad is None


def test_clipping_inside_a_training_step():
    """clip_grad_norm_ after backward bounds the gradient norm the optimizer sees."""
    import ember.nn.utils as utils
    ember.manual_seed(0)
    model = nn.LSTM(4, 8, num_layers=2)
    out, _ = model(ember.randn(5, 2, 4))
    (out * 100).sum().backward()
    total = utils.clip_grad_norm_(model.parameters(), max_norm=0.25)
    assert total.item() > 0.25
    after = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                          for p in model.parameters()))
    assert after == pytest.approx(0.25, rel=1e-4)
