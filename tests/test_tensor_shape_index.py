"""Shape ops, indexing and index assignment: NumPy forward, float64 gradcheck, PyTorch parity."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(3)
X = rng.standard_normal((2, 3, 4))
Y = rng.standard_normal((2, 3, 4))


def _weighted_cat(m, pieces, dim):
    """Recombines split/chunk outputs so every piece gets a different gradient."""
    return m.cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


# name -> (fn(mod, *tensors), numpy reference, inputs as (array, differentiable))
CASES = {
    "reshape": (lambda m, x: x.reshape(4, 6), lambda x: x.reshape(4, 6), [(X, True)]),
    "reshape_tuple_minus1": (lambda m, x: m.reshape(x, (-1, 2)), lambda x: x.reshape(-1, 2),
                             [(X, True)]),
    "view": (lambda m, x: x.view(-1, 4), lambda x: x.reshape(-1, 4), [(X, True)]),
    "flatten": (lambda m, x: x.flatten(), lambda x: x.reshape(-1), [(X, True)]),
    "flatten_1_2": (lambda m, x: x.flatten(1, 2), lambda x: x.reshape(2, 12), [(X, True)]),
    "flatten_0_1": (lambda m, x: m.flatten(x, 0, 1), lambda x: x.reshape(6, 4), [(X, True)]),
    "flatten_neg": (lambda m, x: x.flatten(start_dim=-2), lambda x: x.reshape(2, 12), [(X, True)]),
    "unflatten": (lambda m, x: x.unflatten(-1, (2, 2)), lambda x: x.reshape(2, 3, 2, 2),
                  [(X, True)]),
    "unflatten_minus1": (lambda m, x: m.unflatten(x, 2, (2, -1)), lambda x: x.reshape(2, 3, 2, 2),
                         [(X, True)]),
    "transpose": (lambda m, x: x.transpose(0, -1), lambda x: x.swapaxes(0, 2), [(X, True)]),
    "permute": (lambda m, x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [(X, True)]),
    "permute_tuple_neg": (lambda m, x: m.permute(x, (-1, 0, 1)), lambda x: x.transpose(2, 0, 1),
                          [(X, True)]),
    "T_2d": (lambda m, x: x.T, lambda x: x.T, [(X[0], True)]),
    "t_2d": (lambda m, x: x.t(), lambda x: x.T, [(X[0], True)]),
    "squeeze_all": (lambda m, x: x.squeeze(), lambda x: x.squeeze(), [(X[:, :1, None], True)]),
    "squeeze_dim": (lambda m, x: x.squeeze(1), lambda x: x.squeeze(1), [(X[:, :1], True)]),
    "squeeze_dim_not_one": (lambda m, x: x.squeeze(0), lambda x: x, [(X[:, :1], True)]),
    "unsqueeze_neg1": (lambda m, x: x.unsqueeze(-1), lambda x: x[..., None], [(X, True)]),
    "unsqueeze_neg4": (lambda m, x: m.unsqueeze(x, -4), lambda x: x[None], [(X, True)]),
    "unsqueeze_mid": (lambda m, x: x.unsqueeze(1), lambda x: x[:, None], [(X, True)]),
    "expand": (lambda m, x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
               [(X[0, :, :1], True)]),
    "expand_minus1": (lambda m, x: x.expand(5, -1, 4), lambda x: np.broadcast_to(x, (5, 3, 4)),
                      [(X[:1, :, :1], True)]),
    "cat": (lambda m, x, y: m.cat([x, y]), lambda x, y: np.concatenate([x, y]),
            [(X, True), (Y[:1], True)]),
    "cat_neg_dim": (lambda m, x, y: m.cat((x, y), dim=-1), lambda x, y: np.concatenate([x, y], -1),
                    [(X, True), (Y[..., :2], True)]),
    "stack": (lambda m, x, y: m.stack([x, y]), lambda x, y: np.stack([x, y]), [(X, True), (Y, True)]),
    "stack_neg_dim": (lambda m, x, y: m.stack([x, y], -1), lambda x, y: np.stack([x, y], -1),
                      [(X, True), (Y, True)]),
    "split_size": (lambda m, x: _weighted_cat(m, x.split(3, -1), -1),
                   lambda x: np.concatenate([x[..., :3], 2 * x[..., 3:]], -1), [(X, True)]),
    "split_sections": (lambda m, x: _weighted_cat(m, m.split(x, [1, 2], 1), 1),
                       lambda x: np.concatenate([x[:, :1], 2 * x[:, 1:]], 1), [(X, True)]),
    "chunk": (lambda m, x: _weighted_cat(m, x.chunk(2, 1), 1),
              lambda x: np.concatenate([x[:, :2], 2 * x[:, 2:]], 1), [(X, True)]),
    # indexing
    "index_neg_middle": (lambda m, x: x[:, -1, :], lambda x: x[:, -1, :], [(X, True)]),
    "index_int": (lambda m, x: x[1], lambda x: x[1], [(X, True)]),
    "index_ellipsis": (lambda m, x: x[..., 0], lambda x: x[..., 0], [(X, True)]),
    "index_none": (lambda m, x: x[None], lambda x: x[None], [(X, True)]),
    "index_slices_step": (lambda m, x: x[:, ::2, 1:3], lambda x: x[:, ::2, 1:3], [(X, True)]),
    "index_list_repeats": (lambda m, x: x[[1, 0, 1]], lambda x: x[[1, 0, 1]], [(X, True)]),
    "index_list_dim1": (lambda m, x: x[:, [2, 0, 2, 2]], lambda x: x[:, [2, 0, 2, 2]], [(X, True)]),
    "index_tensor_repeats": (lambda m, x: x[m.tensor([0, 0, 1])], lambda x: x[[0, 0, 1]],
                             [(X, True)]),
    "index_pairs": (lambda m, x: x[m.tensor([0, 1, 1]), m.tensor([2, 0, 2])],
                    lambda x: x[[0, 1, 1], [2, 0, 2]], [(X, True)]),
    "index_bool_mask": (lambda m, x: x[x > 0.3], lambda x: x[x > 0.3], [(X, True)]),
    "index_bool_mask_rows": (lambda m, x: x[m.tensor([True, False, True])],
                             lambda x: x[[True, False, True]], [(X[0], True)]),
}


def _ember(spec):
    return [ember.tensor(a.copy(), dtype=ember.float64, requires_grad=d) for a, d in spec]


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_numpy(name):
    fn, ref, spec = CASES[name]
    assert_close(fn(ember, *_ember(spec)), ref(*[a for a, _ in spec]), rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, _, spec = CASES[name]
    assert gradcheck(lambda *t: fn(ember, *t), _ember(spec))


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    torch = pytest.importorskip("torch")
    fn, _, spec = CASES[name]
    ours = _ember(spec)
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=d) for a, d in spec]
    out, ref = fn(ember, *ours), fn(torch, *theirs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out, ref.detach().numpy(), rtol=0, atol=0, msg=f"{name} forward")
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ours, theirs)):
        assert_close(e.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12, msg=f"{name} grad {i}")


def test_numpy_index_arrays_accumulate_repeated_gradients():
    x = ember.tensor(X, requires_grad=True)
    x[np.array([1, 1, 0, 1])].sum().backward()
    assert_close(x.grad[:, 0, 0], [1.0, 3.0], rtol=0, atol=0)


def test_split_and_chunk_sizes_match_pytorch():
    torch = pytest.importorskip("torch")
    for n, k in [(6, 4), (7, 3), (5, 5), (2, 3)]:
        ours = [tuple(p.shape) for p in ember.zeros(n, 2).chunk(k)]
        assert ours == [tuple(p.shape) for p in torch.zeros(n, 2).chunk(k)], (n, k)
        ours = [tuple(p.shape) for p in ember.zeros(n, 2).split(k)]
        assert ours == [tuple(p.shape) for p in torch.zeros(n, 2).split(k)], (n, k)


def test_view_and_reshape_share_memory_with_the_input():
    base = ember.zeros(2, 3)
    base.view(6)[0] = 5.0
    base.reshape(3, 2)[2, 1] = 7.0
    assert base.tolist() == [[5.0, 0.0, 0.0], [0.0, 0.0, 7.0]]


@pytest.mark.parametrize("fn, message", [
    (lambda t: t.view(5, 5), "view"),
    (lambda t: t.reshape(7, -1), "reshape"),
    (lambda t: t.expand(2, 3, 5), "expand"),
    (lambda t: t.permute(0, 1), "permute"),
    (lambda t: t.permute(0, 1, 1), "permute"),
    (lambda t: ember.cat([t, ember.zeros(2, 2, 4)], 2), "cat"),
    (lambda t: ember.stack([t, ember.zeros(2, 3)]), "stack"),
])
def test_shape_errors_name_the_op_and_shapes(fn, message):
    with pytest.raises(ember.ShapeError, match=message) as err:
        fn(ember.zeros(2, 3, 4))
    assert "(2, 3, 4)" in str(err.value)


def test_unsqueeze_and_index_out_of_range_raise_index_error():
    t = ember.zeros(2, 3)
    with pytest.raises(IndexError):
        t.unsqueeze(3)
    with pytest.raises(IndexError):
        t.unsqueeze(-4)
    with pytest.raises(IndexError):
        t[2]


# ---- index assignment ------------------------------------------------------------------------
def test_setitem_on_tensor_without_grad_writes_in_place():
    a = rng.standard_normal((3, 4))
    t = ember.tensor(a)
    alias = t.view(12)
    t[t > 0] = 0
    t[0] = ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64)
    t[:, -1] = 9
    t[[1, 2], [0, 1]] = -5
    expected = a.copy()
    expected[expected > 0] = 0
    expected[0] = [1, 2, 3, 4]
    expected[:, -1] = 9
    expected[[1, 2], [0, 1]] = -5
    assert_close(t, expected, rtol=0, atol=0)
    assert_close(alias, expected.reshape(12), rtol=0, atol=0)
    assert not t.requires_grad and t.grad_fn is None


def test_setitem_on_leaf_requiring_grad_raises_unless_no_grad():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with ember.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0] and x.is_leaf and x.requires_grad


def _setitem_graph(m, x, v):
    y = x * 2
    y[:, 1] = v[0] * 3       # basic index, broadcast value
    y[y < -1.5] = 0.0        # boolean mask with a constant
    y[[2, 2], [0, 3]] = v[:2]  # advanced index
    return y * y


def test_setitem_in_graph_gradcheck_and_pytorch():
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    x, v = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: _setitem_graph(ember, p, q), (x, v))
    out = _setitem_graph(ember, x, v)
    assert out.grad_fn is not None
    torch = pytest.importorskip("torch")
    tx, tv = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = _setitem_graph(torch, tx, tv)
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    assert_close(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_close(v.grad, tv.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_setitem_of_grad_value_into_plain_tensor_builds_a_graph():
    torch = pytest.importorskip("torch")
    for m in (ember, torch):
        v = m.tensor([1.0, 2.0], requires_grad=True)
        buf = m.zeros(3, 2)
        buf[[0, 0]] = v  # repeated rows: the value gets the gradient of each row it was sent to
        (buf * m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
        assert buf.requires_grad and not buf.is_leaf
        assert v.grad.tolist() == [2.0, 4.0], m.__name__
