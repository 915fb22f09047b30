"""Tensor.new_zeros/new_ones/new_empty/new_full/new_tensor (dtype inherited from the tensor,
as in PyTorch), the casts half/byte/char/short, what float16 tensors can do, and the constants
ember.pi, ember.e, ember.inf, ember.nan."""
import math

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("make", [
    lambda m, t: t.new_zeros(2, 3), lambda m, t: t.new_zeros((2, 3)),
    lambda m, t: t.new_ones([4]), lambda m, t: t.new_ones(2, dtype=m.int64),
    lambda m, t: t.new_empty(3, 1), lambda m, t: t.new_full((2,), 5),
    lambda m, t: t.new_full([1, 2], 2.5, dtype=m.float64),
    lambda m, t: t.new_tensor([1, 2]), lambda m, t: t.new_tensor(3.5),
    lambda m, t: t.new_tensor([[1, 2]], dtype=m.int32),
    lambda m, t: t.new_tensor(np.array([1.5, 2.5]), dtype=m.float32, requires_grad=True),
], ids=["zeros_varargs", "zeros_tuple", "ones_list", "ones_dtype", "empty", "full_int_value",
        "full_dtype", "tensor_int_data", "tensor_scalar", "tensor_dtype", "tensor_numpy_grad"])
@pytest.mark.parametrize("base", ["float32", "float64", "int64"])
def test_new_constructors_match_pytorch(make, base):
    torch = pytest.importorskip("torch")
    ours = make(ember, ember.tensor([7, 8], dtype=getattr(ember, base)))
    theirs = make(torch, torch.tensor([7, 8], dtype=getattr(torch, base)))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[1])
    assert ours.requires_grad == theirs.requires_grad
    if "empty" not in str(make.__code__.co_names):
        assert ours.tolist() == theirs.tolist()


def test_new_tensor_copies_and_warns_for_a_tensor_like_pytorch():
    src = ember.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="detach\\(\\).clone\\(\\)"):
        out = ember.zeros(1, dtype=ember.float64).new_tensor(src)
    assert out.dtype == ember.float64 and out.tolist() == [1.0, 2.0]
    src[0] = 9.0
    assert out.tolist() == [1.0, 2.0]


def test_new_full_rejects_an_int_size_like_pytorch():
    with pytest.raises(TypeError, match="new_full.*size"):
        ember.ones(2).new_full(2, 1.0)


@pytest.mark.parametrize("cast, dtype", [("half", "float16"), ("byte", "uint8"),
                                         ("char", "int8"), ("short", "int16"),
                                         ("double", "float64"), ("float", "float32"),
                                         ("long", "int64"), ("int", "int32"), ("bool", "bool")])
def test_casts_match_pytorch(cast, dtype):
    data = [0.0, 1.7, -2.2, 300.5]
    ours = getattr(ember.tensor(data), cast)()
    assert ours.dtype == getattr(ember, dtype)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.tensor(data), cast)()
    if dtype != "uint8":  # casting a negative float to uint8 is undefined behaviour in C++
        assert ours.tolist() == theirs.tolist()


def test_half_tensors_compute_with_numpy_ops_and_kernels_ask_for_float32():
    h = ember.tensor([[1.0, 2.0], [3.0, 4.0]]).half()
    assert (h * h + 1).dtype == ember.float16
    assert (h.exp().sum()).dtype == ember.float16
    assert h.float().dtype == ember.float32
    with pytest.raises(TypeError, match="matmul.*float16"):
        h @ h
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.half() * 3).sum().backward()
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [3.0, 3.0]


def test_constants_are_pythons():
    assert ember.pi == math.pi and ember.e == math.e
    assert ember.inf == math.inf and math.isnan(ember.nan)
    torch = pytest.importorskip("torch")
    assert (ember.pi, ember.e, ember.inf) == (torch.pi, torch.e, torch.inf)
