"""The Tensor object itself: conversion, metadata, printing, dtype casts and in-place methods."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck


def test_item_tolist_len_iteration_and_bool():
    t = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert ember.tensor([2.5]).item() == 2.5 and isinstance(ember.tensor(3).item(), int)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert len(t) == 2 and [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert bool(ember.tensor([1.0])) and not bool(ember.tensor(0.0))
    with pytest.raises(RuntimeError, match="2 elements"):
        t[0].item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError):
        iter(ember.tensor(1.0))


def test_numpy_shares_memory_and_refuses_tensors_requiring_grad():
    t = ember.zeros(3)
    t.numpy()[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_detach_and_data_share_storage_without_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    for d in (x.detach(), x.data, (x * 2).detach()):
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    x.detach().zero_()
    assert x.tolist() == [0.0, 0.0] and x.requires_grad


def test_metadata_size_shape_dim_dtype():
    t = ember.zeros(2, 3, 4)
    assert isinstance(t.shape, ember.Size) and t.shape == (2, 3, 4)
    assert t.size() == (2, 3, 4) and isinstance(t.size(), ember.Size)
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24
    assert t.dtype == ember.float32 and ember.tensor([1]).dtype == ember.int64
    assert repr(t.shape) == "ember.Size([2, 3, 4])"
    with pytest.raises(IndexError):
        t.size(3)


def test_dtype_conversions():
    t = ember.tensor([-1.5, 0.0, 2.7])
    assert t.to(ember.float64).dtype == ember.float64 and t.double().dtype == ember.float64
    assert t.long().tolist() == [-1, 0, 2] and t.long().dtype == ember.int64
    assert t.bool().tolist() == [True, False, True]
    assert t.long().float().dtype == ember.float32
    assert t.to(ember.float32) is t  # no-op conversion returns the tensor itself, like PyTorch
    assert t.is_floating_point() and not t.long().is_floating_point()
    assert not t.bool().is_floating_point()


def test_cast_is_differentiable_and_gradient_keeps_parameter_dtype():
    x = ember.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x.float() * 3).sum().backward()
    assert x.grad.dtype == ember.float64 and x.grad.tolist() == [3.0, 3.0]
    y = ember.tensor([1.0, 2.0], requires_grad=True)
    (y.double() * ember.tensor([2.0, 3.0], dtype=ember.float64)).sum().backward()
    assert y.grad.dtype == ember.float32 and y.grad.tolist() == [2.0, 3.0]


def test_requires_grad_only_for_floating_point():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)
    x = ember.zeros(2).requires_grad_()
    assert x.requires_grad and x.is_leaf
    assert not x.requires_grad_(False).requires_grad


REPRS = [
    (lambda m: m.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda m: m.tensor([1.0, 2.5]), "tensor([1.0000, 2.5000])"),
    (lambda m: m.tensor([-1.0, 2.5]), "tensor([-1.0000,  2.5000])"),
    (lambda m: m.tensor([1e-5, 2.5]), "tensor([1.0000e-05, 2.5000e+00])"),
    (lambda m: m.tensor(3.5), "tensor(3.5000)"),
    (lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda m: m.tensor([1, 20]), "tensor([ 1, 20])"),
    (lambda m: m.tensor([True, False]), "tensor([ True, False])"),
    (lambda m: m.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda m: m.tensor([float("nan"), 1.0]), "tensor([nan, 1.])"),
    (lambda m: m.tensor([]), "tensor([])"),
    (lambda m: m.zeros(0, 3), "tensor([], size=(0, 3))"),
]


@pytest.mark.parametrize("make, expected", REPRS, ids=[e for _, e in REPRS])
def test_repr_like_pytorch(make, expected):
    assert repr(make(ember)) == expected
    torch = pytest.importorskip("torch")
    assert repr(make(torch)) == expected


def test_repr_shows_dtype_and_grad_fn():
    assert repr(ember.tensor([1.0, 2.0], dtype=ember.float64)) == \
        "tensor([1., 2.], dtype=ember.float64)"
    assert repr(ember.tensor([1, 2], dtype=ember.int32)) == "tensor([1, 2], dtype=ember.int32)"
    y = ember.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y).startswith("tensor([2., 4.], grad_fn=<") and repr(y).endswith(">)")
    assert str(y) == repr(y)


# ---- in-place methods ------------------------------------------------------------------------
def test_inplace_ops_on_plain_tensor_write_into_storage():
    t = ember.tensor([1.0, -2.0, 3.0])
    alias = t.view(3)
    assert t.add_(1) is t and t.mul_(2) is t
    assert alias.tolist() == [4.0, -2.0, 8.0]
    t.clamp_(min=0.0, max=5.0)
    assert alias.tolist() == [4.0, 0.0, 5.0]
    t.add_(ember.tensor([1.0, 1.0, 1.0]), alpha=2)
    assert alias.tolist() == [6.0, 2.0, 7.0]
    t.copy_(ember.tensor([7.0, 8.0, 9.0]))
    assert alias.tolist() == [7.0, 8.0, 9.0]
    t.fill_(2.5)
    assert alias.tolist() == [2.5, 2.5, 2.5]
    t.zero_()
    assert alias.tolist() == [0.0, 0.0, 0.0]
    t += 1
    t *= 3
    assert alias.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("op", [
    lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(), lambda t: t.fill_(1.0),
    lambda t: t.copy_(ember.ones(3)), lambda t: t.clamp_(0, 1), lambda t: t.__iadd__(1),
], ids=["add_", "mul_", "zero_", "fill_", "copy_", "clamp_", "iadd"])
def test_inplace_on_leaf_requiring_grad_raises_unless_no_grad(op):
    x = ember.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        op(x)
    with ember.no_grad():
        op(x)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


# Each: an in-place method applied to a non-leaf in a graph, then more ops.
INPLACE_GRAPHS = {
    "mul_add_": lambda m, x, w: (x * 2).mul_(w).add_(x).sum(),
    "clamp_": lambda m, x, w: ((x * w).clamp_(min=-0.5, max=1.0) * x).sum(),
    "iadd_imul": lambda m, x, w: _iadd_imul(x, w),
    "zero_": lambda m, x, w: ((x * w).zero_() + x * x).sum(),
    "fill_": lambda m, x, w: ((x * 3).fill_(2.0) * w).sum(),
    "copy_": lambda m, x, w: ((x * 3).copy_(w * w) * x).sum(),
    "earlier_use": lambda m, x, w: _earlier_use(x, w),
}


def _iadd_imul(x, w):
    y = x + 0
    y += w
    y *= x
    return y.sum()


def _earlier_use(x, w):
    y = x * w
    z = y * 3         # uses y before it is modified in place
    y.add_(1).mul_(x)
    return (z + y).sum()


@pytest.mark.parametrize("name", INPLACE_GRAPHS)
def test_inplace_on_non_leaf_gives_correct_gradients(name):
    fn = INPLACE_GRAPHS[name]
    a = np.array([-1.2, 0.3, 0.8, 2.0])
    b = np.array([0.7, -0.4, 1.1, 0.9])
    x, w = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: fn(ember, p, q), (x, w))
    torch = pytest.importorskip("torch")
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = fn(ember, x, w), fn(torch, tx, tw)
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.backward()
    ref.backward()
    for ours, theirs in ((x, tx), (w, tw)):
        expected = np.zeros(4) if theirs.grad is None else theirs.grad.numpy()
        got = np.zeros(4) if ours.grad is None else ours.grad.numpy()
        assert_close(got, expected, rtol=1e-12, atol=1e-12)
