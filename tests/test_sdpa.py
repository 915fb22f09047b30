"""F.scaled_dot_product_attention: a NumPy reference, float64 finite-difference gradients of
query, key, value and a float mask, PyTorch parity (masks, causal, broadcasting, grouped
heads, fully masked rows) and PyTorch's argument errors."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(12)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def reference(q, k, v, mask=None, causal=False, scale=None):
    """Loops over every (batch, query) pair; a query with no key left gives zeros."""
    L, S = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q, k, v = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (q, k, v))
    bias = np.zeros(batch + (L, S))
    if causal:
        mask = np.tril(np.ones((L, S), dtype=bool))
    if mask is not None:
        bias = bias + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    out = np.zeros(batch + (L, v.shape[-1]))
    for idx in np.ndindex(*batch):
        for i in range(L):
            s = q[idx][i] @ k[idx].T * scale + bias[idx][i]
            if np.isneginf(s).all():
                continue
            p = np.exp(s - s.max())
            out[idx][i] = (p / p.sum()) @ v[idx]
    return out


def bool_mask(*shape):
    return rng.random(shape) > 0.4


# (name, query, key, value shapes, keyword arguments: attn_mask as an array)
CASES = [
    ("plain", (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), {}),
    ("unbatched", (4, 5), (6, 5), (6, 3), {}),
    ("bool_mask", (2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3), {"attn_mask": bool_mask(4, 5)}),
    ("bool_mask_per_batch", (2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3),
     {"attn_mask": bool_mask(2, 1, 4, 5)}),
    ("float_mask", (2, 4, 3), (2, 5, 3), (2, 5, 2), {"attn_mask": randn(2, 4, 5)}),
    ("causal", (2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4), {"is_causal": True}),
    ("causal_more_keys", (1, 3, 4), (1, 6, 4), (1, 6, 2), {"is_causal": True}),
    ("causal_fewer_keys", (1, 6, 4), (1, 3, 4), (1, 3, 2), {"is_causal": True}),
    ("scale", (2, 3, 4), (2, 3, 4), (2, 3, 4), {"scale": 0.2}),
    ("broadcast_batch", (2, 1, 4, 5), (3, 6, 5), (3, 6, 7), {}),
    ("fully_masked_row", (1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4),
     {"attn_mask": np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]])}),
]


def ember_kwargs(kw, requires_grad=False):
    kw = dict(kw)
    if "attn_mask" in kw:
        kw["attn_mask"] = ember.tensor(kw["attn_mask"], requires_grad=requires_grad
                                       and kw["attn_mask"].dtype != bool)
    return kw


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_matches_reference(case, dtype):
    _, qs, ks, vs, kw = case
    q, k, v = randn(*qs), randn(*ks), randn(*vs)
    got = F.scaled_dot_product_attention(*(ember.tensor(a.astype(dtype)) for a in (q, k, v)),
                                         **ember_kwargs({key: (a.astype(dtype) if isinstance(
                                             a, np.ndarray) and a.dtype != bool else a)
                                             for key, a in kw.items()}))
    assert got.dtype == (ember.float64 if dtype == np.float64 else ember.float32)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_close(got, reference(q, k, v, kw.get("attn_mask"), kw.get("is_causal", False),
                                kw.get("scale")), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case):
    _, qs, ks, vs, kw = case
    tensors = [ember.tensor(randn(*s), requires_grad=True) for s in (qs, ks, vs)]
    kw = ember_kwargs(kw, requires_grad=True)
    mask = kw.pop("attn_mask", None)

    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)

    assert gradcheck(f, (*tensors, mask))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_forward_and_gradients(case):
    torch = pytest.importorskip("torch")
    _, qs, ks, vs, kw = case
    arrays = [randn(*s) for s in (qs, ks, vs)]
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ekw, tkw = ember_kwargs(kw, requires_grad=True), dict(kw)
    if "attn_mask" in kw:
        tkw["attn_mask"] = torch.tensor(kw["attn_mask"],
                                        requires_grad=kw["attn_mask"].dtype != bool)
    out = F.scaled_dot_product_attention(*ours, **ekw)
    want = torch.nn.functional.scaled_dot_product_attention(*theirs, **tkw)
    assert_close(out, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = randn(*out.shape)
    out.backward(ember.tensor(g))
    want.backward(torch.tensor(g))
    for a, b in zip(ours + [ekw.get("attn_mask")], theirs + [tkw.get("attn_mask")]):
        if b is not None and b.requires_grad:
            assert_close(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_fully_masked_rows_give_zeros_and_zero_gradients():
    q, k, v = (ember.tensor(randn(1, 3, 4), requires_grad=True) for _ in range(3))
    mask = ember.tensor(np.array([[True, False, True], [False] * 3, [True] * 3]))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(out.detach().numpy()[0, 1] == 0) and np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert np.all(q.grad.numpy()[0, 1] == 0) and np.isfinite(k.grad.numpy()).all()


def test_grouped_query_heads_match_repeated_keys_and_torch():
    q, k, v = randn(2, 6, 3, 4), randn(2, 2, 5, 4), randn(2, 2, 5, 3)
    out = F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)), enable_gqa=True)
    assert_close(out, reference(q, np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1)),
                 rtol=1e-12, atol=1e-12)
    tensors = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t, enable_gqa=True), tensors)
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)),
                                                            enable_gqa=True)
    assert_close(out, want.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_drops_attention_weights_and_rescales():
    ember.manual_seed(3)
    q, k = ember.tensor(randn(1, 1, 6)), ember.tensor(randn(1, 200, 6))
    v = ember.tensor(np.eye(200)[None])  # output = the (dropped) attention weights themselves
    weights = F.scaled_dot_product_attention(q, k, v).numpy()
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy()
    kept = dropped != 0
    assert 0.6 < kept.mean() < 0.9
    assert_close(dropped[kept], weights[kept] / 0.75, rtol=1e-12, atol=1e-15)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_dropout_backward_uses_the_same_mask():
    q, k, v = (ember.tensor(randn(2, 4, 3), requires_grad=True) for _ in range(3))
    ember.manual_seed(4)
    F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).sum().backward()
    # With the same draws and value = identity the output is the dropped weights; v's gradient
    # under a sum is their column sums, so a fresh mask in backward would not match.
    ember.manual_seed(4)
    eye = ember.tensor(np.broadcast_to(np.eye(4), (2, 4, 4)).copy())
    weights = F.scaled_dot_product_attention(q.detach(), k.detach(), eye, dropout_p=0.5).numpy()
    assert (weights == 0).any()
    assert_close(v.grad, np.broadcast_to(weights.sum(axis=1)[..., None], (2, 4, 3)),
                 rtol=1e-12, atol=1e-14)


def test_float32_agrees_with_float64():
    q, k, v = randn(2, 2, 5, 4), randn(2, 2, 7, 4), randn(2, 2, 7, 3)
    m = bool_mask(5, 7)
    out64 = F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)),
                                           attn_mask=ember.tensor(m))
    out32 = F.scaled_dot_product_attention(*(ember.tensor(a.astype(np.float32))
                                             for a in (q, k, v)), attn_mask=ember.tensor(m))
    assert_close(out32.numpy(), out64.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("args, kwargs, error, text", [
    (((5,), (5,), (5,)), {}, ember.ShapeError, "at least 2-dimensional"),
    (((3, 5), (3, 4), (3, 5)), {}, ember.ShapeError, "same last dimension"),
    (((3, 5), (3, 5), (4, 5)), {}, ember.ShapeError, "same sequence length"),
    (((2, 3, 5), (3, 3, 5), (3, 3, 5)), {}, ember.ShapeError, "cannot be broadcast"),
    (((3, 5), (3, 5), (3, 5)), {"dropout_p": 1.5}, ValueError, "between 0 and 1"),
    (((3, 5), (3, 5), (3, 5)), {"attn_mask": np.ones((3, 3), bool), "is_causal": True},
     ValueError, "should not be set when is_causal"),
    (((3, 5), (3, 5), (3, 5)), {"attn_mask": np.ones((4, 3), bool)}, ember.ShapeError,
     "does not broadcast"),
    (((3, 5), (3, 5), (3, 5)), {"attn_mask": np.ones((2, 3, 3), bool)}, ember.ShapeError,
     "does not broadcast"),
    (((3, 5), (3, 5), (3, 5)), {"attn_mask": np.ones((3, 3), np.float32)}, TypeError,
     "attn_mask dtype"),
    (((1, 4, 3, 5), (1, 3, 3, 5), (1, 3, 3, 5)), {"enable_gqa": True}, ember.ShapeError,
     "must divide"),
])
def test_bad_arguments_raise(args, kwargs, error, text):
    tensors = [ember.tensor(randn(*s)) for s in args]
    kwargs = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises(error, match=text):
        F.scaled_dot_product_attention(*tensors, **kwargs)


def test_mixed_dtypes_raise():
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(ember.tensor(randn(3, 4)),
                                       ember.tensor(randn(3, 4, dtype=np.float32)),
                                       ember.tensor(randn(3, 4)))


def test_same_result_with_one_and_two_threads(restore_threads):
    q, k, v = randn(4, 2, 9, 8), randn(4, 2, 11, 8), randn(4, 2, 11, 5)
    mask = bool_mask(9, 11)
    results = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        tensors = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = F.scaled_dot_product_attention(*tensors, attn_mask=ember.tensor(mask))
        out.backward(ember.tensor(np.ones(out.shape)))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for one, two in zip(*results):
        assert_close(two, one, rtol=1e-12, atol=1e-12)
