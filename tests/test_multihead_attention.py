"""nn.MultiheadAttention: a PyTorch state_dict loads and gives the same outputs, attention
weights and gradients (inputs and every parameter) across its options and mask kinds; a NumPy
reference; a float64 finite-difference gradient check; dropout; argument errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn._functional_mha import multi_head_attention_forward
from ember.testing import assert_close, gradcheck
from torch_parity import call_plainly, load_torch_state, run_both

rng = np.random.default_rng(21)
E, H, L, S, N = 8, 2, 4, 5, 3


def randn(*shape):
    return rng.standard_normal(shape)


def pad_mask(batch, length):
    m = np.zeros((batch, length), dtype=bool)
    m[0, -2:] = True
    return m


# (name, constructor kwargs, query/key/value shapes or "self", forward kwargs)
CASES = [
    ("self_seq_first", {}, "self", {}),
    ("self_batch_first", {"batch_first": True}, "self", {}),
    ("cross", {}, ((L, N, E), (S, N, E), (S, N, E)), {}),
    ("kdim_vdim", {"kdim": 3, "vdim": 6}, ((L, N, E), (S, N, 3), (S, N, 6)), {}),
    ("no_bias", {"bias": False}, ((L, N, E), (S, N, E), (S, N, E)), {}),
    ("bias_kv", {"add_bias_kv": True}, ((L, N, E), (S, N, E), (S, N, E)),
     {"key_padding_mask": pad_mask(N, S), "attn_mask": rng.random((L, S)) > 0.8}),
    ("zero_attn", {"add_zero_attn": True}, ((L, N, E), (S, N, E), (S, N, E)),
     {"attn_mask": randn(L, S)}),
    ("bias_kv_zero_attn", {"add_bias_kv": True, "add_zero_attn": True},
     ((L, N, E), (S, N, E), (S, N, E)), {}),
    ("key_padding_bool", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"key_padding_mask": pad_mask(N, S)}),
    ("key_padding_float", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"key_padding_mask": randn(N, S)}),
    ("attn_mask_bool", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"attn_mask": rng.random((L, S)) > 0.7}),
    ("attn_mask_3d", {}, ((L, N, E), (S, N, E), (S, N, E)), {"attn_mask": randn(N * H, L, S)}),
    ("both_masks", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"attn_mask": randn(L, S), "key_padding_mask": randn(N, S)}),
    ("per_head_weights", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"average_attn_weights": False}),
    ("no_weights", {}, ((L, N, E), (S, N, E), (S, N, E)), {"need_weights": False}),
    ("no_weights_masks", {}, ((L, N, E), (S, N, E), (S, N, E)),
     {"need_weights": False, "attn_mask": rng.random((L, S)) > 0.7,
      "key_padding_mask": pad_mask(N, S)}),
    ("causal_hint", {"batch_first": True}, "self",
     {"need_weights": False, "is_causal": True, "attn_mask": np.triu(np.ones((L, L), bool), 1)}),
    ("unbatched", {}, ((L, E), (S, E), (S, E)),
     {"key_padding_mask": np.arange(S) > 3, "attn_mask": rng.random((H, L, S)) > 0.7}),
]


def make_pair(torch, ctor):
    torch.manual_seed(5)
    theirs = torch.nn.MultiheadAttention(E, H, **ctor).double()
    for p in theirs.parameters():  # nonzero biases, so their gradients are tested too
        torch.nn.init.normal_(p)
    ours = nn.MultiheadAttention(E, H, dtype=ember.float64, **ctor)
    load_torch_state(ours, theirs)
    return ours, theirs


def inputs(shapes, ctor):
    if shapes == "self":
        x = randn(N, L, E) if ctor.get("batch_first") else randn(L, N, E)
        return [x, x, x]
    arrays = [randn(*s) for s in shapes]
    if ctor.get("batch_first"):
        arrays = [a.swapaxes(0, 1).copy() for a in arrays]
    return arrays


def self_attention(module, leaves, consts):
    x = leaves[0]
    return module(x, x, x, **consts)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_outputs_weights_and_gradients(case):
    torch = pytest.importorskip("torch")
    _, ctor, shapes, fkw = case
    ours, theirs = make_pair(torch, ctor)
    arrays = inputs(shapes, ctor)
    call = self_attention if shapes == "self" else call_plainly
    (out, w), (tout, tw) = run_both(torch, ours, theirs, arrays[:1] if shapes == "self"
                                    else arrays, fkw, call=call, pick=0)
    assert (w is None) == (tw is None) == (fkw.get("need_weights") is False)
    if w is not None:
        assert_close(w, tw.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mismatched_mask_types_warn_as_torch_does():
    mha = nn.MultiheadAttention(E, H)
    x = ember.randn(L, N, E)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=ember.tensor(pad_mask(N, L)),
            attn_mask=ember.zeros(L, L))


def numpy_mha(q_in, k_in, v_in, w_in, b_in, w_out, b_out, heads, bias_mask=None):
    """(L, N, E) inputs, head by head and sample by sample."""
    Lq, batch, e = q_in.shape
    d = e // heads
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)
    out = np.zeros((Lq, batch, e))
    weights = np.zeros((batch, Lq, k_in.shape[0]))
    for n in range(batch):
        q, k, v = q_in[:, n] @ wq.T + bq, k_in[:, n] @ wk.T + bk, v_in[:, n] @ wv.T + bv
        heads_out = []
        for h in range(heads):
            sl = slice(h * d, (h + 1) * d)
            s = q[:, sl] @ k[:, sl].T / np.sqrt(d)
            if bias_mask is not None:
                s = s + bias_mask
            p = np.exp(s - s.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            weights[n] += p / heads
            heads_out.append(p @ v[:, sl])
        out[:, n] = np.concatenate(heads_out, axis=1) @ w_out.T + b_out
    return out, weights


def test_forward_matches_numpy_reference():
    mha = nn.MultiheadAttention(E, H, dtype=ember.float64)
    for p in mha.parameters():
        ember.nn.init.normal_(p)
    q, k = randn(L, N, E), randn(S, N, E)
    mask = randn(L, S)
    out, w = mha(ember.tensor(q), ember.tensor(k), ember.tensor(k), attn_mask=ember.tensor(mask))
    want, want_w = numpy_mha(q, k, k, mha.in_proj_weight.detach().numpy(),
                             mha.in_proj_bias.detach().numpy(),
                             mha.out_proj.weight.detach().numpy(),
                             mha.out_proj.bias.detach().numpy(), H, mask)
    assert_close(out, want, rtol=1e-12, atol=1e-12)
    assert_close(w, want_w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_gradcheck_inputs_and_parameters(need_weights):
    e, h = 4, 2
    tensors = [ember.tensor(randn(*s), requires_grad=True) for s in
               ((3, 2, e), (4, 2, e), (4, 2, e), (3 * e, e), (3 * e,), (e, e), (e,),
                (1, 1, e), (1, 1, e))]
    mask = ember.tensor(randn(3, 4))  # bias_k/bias_v add a fifth key, unmasked
    kpm = ember.tensor(np.array([[0.0] * 4, [0, 0, -np.inf, -np.inf]]))

    def f(q, k, v, w_in, b_in, w_out, b_out, bias_k, bias_v):
        return multi_head_attention_forward(
            q, k, v, e, h, w_in, b_in, bias_k, bias_v, False, 0.0, w_out, b_out,
            key_padding_mask=kpm, attn_mask=mask, need_weights=need_weights)[0]

    assert gradcheck(f, tensors)


def test_fully_masked_query_like_torch():
    """A query that may see no key: NaN through the explicit weights path (need_weights=True),
    zeros through scaled_dot_product_attention (need_weights=False), as PyTorch gives."""
    mha = nn.MultiheadAttention(E, H)
    x = ember.randn(3, 1, E)
    mask = ember.tensor(np.array([[False, True, True], [True] * 3, [False] * 3]))
    out, _ = mha(x, x, x, attn_mask=mask)
    assert np.isnan(out.detach().numpy()[1]).all() and np.isfinite(out.detach().numpy()[0]).all()
    out, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
    assert_close(out.detach().numpy()[1, 0], mha.out_proj.bias.detach().numpy())


def test_dropout_only_while_training():
    mha = nn.MultiheadAttention(E, H, dropout=0.5)
    x = ember.randn(L, N, E)
    mha.eval()
    a, wa = mha(x, x, x)
    b, wb = mha(x, x, x)
    assert_close(a, b.detach().numpy())
    assert_close(wa.sum(dim=-1), np.ones((N, L)), rtol=1e-6, atol=1e-6)
    mha.train()
    _, w = mha(x, x, x, average_attn_weights=False)
    assert (w.detach().numpy() == 0).any()
    out, _ = mha(x, x, x, need_weights=False)
    assert not np.allclose(out.detach().numpy(), a.detach().numpy())


def test_state_dict_keys_and_shapes_follow_torch():
    mha = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True)
    shapes = {k: tuple(v.shape) for k, v in mha.state_dict().items()}
    assert shapes == {"q_proj_weight": (6, 6), "k_proj_weight": (6, 4), "v_proj_weight": (6, 5),
                      "in_proj_bias": (18,), "bias_k": (1, 1, 6), "bias_v": (1, 1, 6),
                      "out_proj.weight": (6, 6), "out_proj.bias": (6,)}
    assert mha.in_proj_weight is None and mha.head_dim == 2


@pytest.mark.parametrize("args, kwargs, text", [
    ((6, 4), {}, "divisible by num_heads"),
    ((0, 1), {}, "embed_dim must be a positive integer"),
    ((4, 0), {}, "num_heads must be a positive integer"),
    ((4, 2), {"dropout": 1.5}, "between 0 and 1"),
    ((4, 2), {"kdim": 0}, "kdim must be a positive integer"),
])
def test_bad_constructor_arguments(args, kwargs, text):
    with pytest.raises(ValueError, match=text):
        nn.MultiheadAttention(*args, **kwargs)


@pytest.mark.parametrize("shapes, kwargs, text", [
    (((L, N, E), (S, N, E), (S, N, E + 1)), {}, "key shape"),
    (((L, N, E + 2), (S, N, E + 2), (S, N, E + 2)), {}, "embedding dimension of 8"),
    (((L, N, E), (S, N, E)[:2], (S, N)), {}, "expected key and value to be 3-D"),
    (((2, L, N, E), (2, S, N, E), (2, S, N, E)), {}, "unbatched 2D or batched 3D"),
    (((L, N, E), (S, N, E), (S, N, E)), {"attn_mask": (S, L)}, "2D attn_mask"),
    (((L, N, E), (S, N, E), (S, N, E)), {"attn_mask": (N, L, S)}, "3D attn_mask"),
    (((L, N, E), (S, N, E), (S, N, E)), {"key_padding_mask": (N, L)}, "key_padding_mask"),
    (((L, N, E), (S, N, E), (S, N, E)), {"key_padding_mask": (S,)}, "key_padding_mask"),
])
def test_bad_inputs_raise_shape_errors(shapes, kwargs, text):
    mha = nn.MultiheadAttention(E, H)
    tensors = [ember.randn(*s) for s in shapes]
    kwargs = {k: ember.zeros(*v) for k, v in kwargs.items()}
    with pytest.raises(ember.ShapeError, match=text):
        mha(*tensors, **kwargs)


def test_causal_hint_needs_a_mask():
    mha = nn.MultiheadAttention(E, H)
    x = ember.randn(L, N, E)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
