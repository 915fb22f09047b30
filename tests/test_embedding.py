"""Embedding lookup (ember._core.embedding_forward / embedding_backward and F.embedding): NumPy
indexing, accumulated gradients, padding_idx, PyTorch parity, threads and rejected indices."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _core
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(77)


def table(rows=7, dim=4, dtype=np.float64):
    return rng.standard_normal((rows, dim)).astype(dtype)


def backward_reference(grad_output, indices, rows, padding_idx=None):
    dim = grad_output.shape[-1]
    gw = np.zeros((rows, dim))
    np.add.at(gw, indices.reshape(-1), grad_output.reshape(-1, dim))
    if padding_idx is not None:
        gw[padding_idx] = 0.0
    return gw


INDEX_SHAPES = [(), (5,), (2, 3), (2, 0), (2, 3, 4), (1, 1, 1, 6)]


# ---------------------------------------------------------------- forward and backward kernels

@pytest.mark.parametrize("shape", INDEX_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_equals_numpy_indexing(shape, dtype):
    w = table(dtype=dtype)
    idx = rng.integers(0, 7, shape)
    out = _core.embedding_forward(w, idx)
    assert out.dtype == dtype and out.shape == shape + (4,)
    np.testing.assert_array_equal(out, w[idx])
    via_functional = F.embedding(ember.tensor(idx), ember.tensor(w))
    assert tuple(via_functional.shape) == shape + (4,)
    np.testing.assert_array_equal(via_functional.numpy(), w[idx])


@pytest.mark.parametrize("index_dtype", [np.int64, np.int32, np.int16, np.uint8, np.uint64])
def test_any_integer_index_dtype(index_dtype):
    w = table()
    idx = np.array([[6, 0], [3, 3]], dtype=index_dtype)
    np.testing.assert_array_equal(_core.embedding_forward(w, idx), w[idx])
    np.testing.assert_array_equal(F.embedding(idx, ember.tensor(w)).numpy(), w[idx])


def test_strided_weight_and_indices_are_read_correctly():
    w = np.asfortranarray(table(9, 5))
    idx = rng.integers(0, 9, (6, 4))[::2, ::-1]
    assert not w.flags.c_contiguous and not idx.flags.c_contiguous
    np.testing.assert_array_equal(_core.embedding_forward(w, idx), w[idx])


@pytest.mark.parametrize("padding_idx", [None, 2, 0, 6])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_accumulates_repeated_indices(padding_idx, dtype):
    idx = np.array([[2, 5, 2], [2, 0, 6], [5, 5, 1]])  # 2 and 5 three times, 3 and 4 never
    g = rng.standard_normal((3, 3, 4)).astype(dtype)
    gw = _core.embedding_backward(g, idx, 7, -1 if padding_idx is None else padding_idx)
    assert gw.dtype == dtype and gw.shape == (7, 4)
    want = backward_reference(g.astype(np.float64), idx, 7, padding_idx)
    assert_close(gw, want, rtol=1e-6 if dtype == np.float32 else 1e-15, atol=1e-6)
    np.testing.assert_array_equal(gw[[3, 4]], 0.0)


def test_backward_default_padding_and_empty_indices():
    g = rng.standard_normal((2, 0, 3))
    gw = _core.embedding_backward(g, np.zeros((2, 0), np.int64), 4)
    np.testing.assert_array_equal(gw, np.zeros((4, 3)))
    idx = np.array([0, 0, 3])
    g = rng.standard_normal((3, 3))
    assert_close(_core.embedding_backward(g, idx, 4), backward_reference(g, idx, 4))


# ---------------------------------------------------------------- F.embedding autograd

@pytest.mark.parametrize("padding_idx", [None, 1, -1, -7])
def test_functional_gradient_and_padding_idx(padding_idx):
    w = ember.tensor(table(), requires_grad=True)
    idx = np.array([[1, 6, 1, 0], [6, 6, 2, 0]])
    out = F.embedding(ember.tensor(idx), w, padding_idx=padding_idx)
    # The padding row is still looked up (PyTorch returns it as stored); only its gradient is 0.
    np.testing.assert_array_equal(out.detach().numpy(), w.detach().numpy()[idx])
    g = rng.standard_normal(out.shape)
    out.backward(ember.tensor(g))
    row = None if padding_idx is None else padding_idx % 7
    assert_close(w.grad, backward_reference(g, idx, 7, row), rtol=1e-15, atol=1e-15)
    if row is not None:
        np.testing.assert_array_equal(w.grad.numpy()[row], 0.0)


def test_gradcheck():
    # No padding_idx here: its zero gradient is by definition not the finite difference.
    idx = np.array([[0, 3, 3], [4, 0, 1]])
    w = ember.tensor(table(5, 3), requires_grad=True)
    assert gradcheck(lambda weight: F.embedding(idx, weight), (w,))


@pytest.mark.parametrize("padding_idx", [None, 0, 4, -2])
def test_matches_pytorch(padding_idx):
    torch = pytest.importorskip("torch")
    w = table(9, 5)
    idx = rng.integers(0, 9, (3, 4, 2))
    idx[0, 0] = [0, 7]
    g = rng.standard_normal(idx.shape + (5,))
    ew = ember.tensor(w, requires_grad=True)
    out = F.embedding(ember.tensor(idx), ew, padding_idx=padding_idx)
    out.backward(ember.tensor(g))
    tw = torch.from_numpy(w).requires_grad_()
    t_out = torch.nn.functional.embedding(torch.from_numpy(idx), tw, padding_idx=padding_idx)
    t_out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    assert_close(ew.grad, tw.grad.numpy(), rtol=1e-14, atol=1e-14)


def test_float32_agrees_with_float64():
    w64, idx = table(11, 6), rng.integers(0, 11, (40,))
    g64 = rng.standard_normal((40, 6))
    grads = []
    for dtype in (np.float64, np.float32):
        w = ember.tensor(w64.astype(dtype), requires_grad=True)
        out = F.embedding(idx, w, padding_idx=5)
        assert out.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
        out.backward(ember.tensor(g64.astype(dtype)))
        grads.append(w.grad.numpy())
    assert grads[1].dtype == np.float32
    assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- threads

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_identical_with_one_and_two_threads(restore_threads, dtype):
    # Large enough for both kernels to run in parallel; heavy repetition of a few rows makes
    # the accumulation order matter.
    w = table(50, 128, dtype)
    idx = rng.integers(0, 50, (64, 80))
    g = rng.standard_normal((64, 80, 128)).astype(dtype)
    results = []
    for threads in (1, 2, 1):
        _core.set_num_threads(threads)
        assert _core.get_num_threads() == threads
        results.append((_core.embedding_forward(w, idx), _core.embedding_backward(g, idx, 50, 3)))
    for other in results[1:]:
        for one, two in zip(results[0], other):
            np.testing.assert_array_equal(one, two)


# ---------------------------------------------------------------- rejected input

@pytest.mark.parametrize("bad", [7, 100, -1, -8, 2**40])
def test_out_of_range_indices_are_rejected(bad):
    w = table()
    idx = np.array([[0, 3], [bad, 1]])
    fragment = f"index {bad} is out of range for an embedding table of 7 rows (weight (7, 4)"
    with pytest.raises(ValueError, match=r"^embedding: ") as info:
        _core.embedding_forward(w, idx)
    assert fragment in str(info.value) and "indices (2, 2)" in str(info.value)
    with pytest.raises(ValueError) as info:
        F.embedding(ember.tensor(idx), ember.tensor(w, requires_grad=True))
    assert fragment in str(info.value)
    with pytest.raises(ValueError, match=rf"^embedding_backward: index {bad} is out of range.*"
                                         r"\(7, 4\)"):
        _core.embedding_backward(np.ones((2, 2, 4)), idx, 7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_])
def test_non_integer_indices_are_rejected(dtype):
    w, idx = table(), np.array([[0, 1], [2, 3]], dtype=dtype)
    with pytest.raises(TypeError, match=rf"embedding: indices must hold integers, got dtype "
                                        rf"{np.dtype(dtype)} with shape \(2, 2\)"):
        _core.embedding_forward(w, idx)
    with pytest.raises(TypeError, match=rf"embedding: indices must be integers, got dtype "
                                        rf"{np.dtype(dtype)} with shape \(2, 2\)"):
        F.embedding(ember.tensor(idx), ember.tensor(w))


def test_shape_and_dtype_errors_name_op_and_shapes():
    with pytest.raises(_core.ShapeError, match=r"embedding: weight must be \(num_embeddings, "
                                               r"embedding_dim\), got shape \(7,\)"):
        _core.embedding_forward(np.ones(7), np.array([0]))
    with pytest.raises(TypeError, match=r"embedding: expected a float32 or float64 array.*"
                                        r"int64.*\(7, 4\)"):
        _core.embedding_forward(np.ones((7, 4), np.int64), np.array([0]))
    with pytest.raises(_core.ShapeError, match=r"embedding_backward: grad_output has shape "
                                               r"\(2, 3, 4\) but indices \(2, 2\) need \(2, 2, 4\)"):
        _core.embedding_backward(np.ones((2, 3, 4)), np.zeros((2, 2), np.int64), 7)
    with pytest.raises(ValueError, match="embedding_backward: num_embeddings must be "
                                         "non-negative"):
        _core.embedding_backward(np.ones((2, 4)), np.zeros(2, np.int64), -1)


@pytest.mark.parametrize("padding_idx", [7, -8, 100])
def test_padding_idx_out_of_range_raises_value_error(padding_idx):
    with pytest.raises(ValueError, match=rf"embedding: padding_idx must be within "
                                         rf"num_embeddings \(7\), got {padding_idx}"):
        F.embedding(np.array([0]), ember.tensor(table()), padding_idx=padding_idx)


@pytest.mark.parametrize("kwargs", [dict(max_norm=1.0), dict(scale_grad_by_freq=True),
                                    dict(sparse=True)])
def test_unsupported_options_raise_not_implemented(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(NotImplementedError, match=f"embedding: {name}="):
        F.embedding(np.array([0]), ember.tensor(table()), **kwargs)
