"""The exceptions PyTorch code catches: RuntimeError for shapes, IndexError for indices and dims."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def test_ember_exception_classes_have_both_bases():
    assert issubclass(ember.ShapeError, ValueError) and issubclass(ember.ShapeError, RuntimeError)
    assert issubclass(ember.IndexOutOfRangeError, IndexError)
    assert issubclass(ember.IndexOutOfRangeError, ValueError)


# Each case: (name, call on a module that is ember or torch, fragment of ember's message).
SHAPE_CASES = [
    ("matmul", lambda m: m.ones(2, 3) @ m.ones(2, 3), r"matmul: shapes \(2, 3\) and \(2, 3\)"),
    ("linear", lambda m: m.nn.Linear(3, 2)(m.ones(2, 4)), r"linear: .*\(2, 4\)"),
    ("conv2d", lambda m: m.nn.Conv2d(3, 2, 3)(m.ones(1, 2, 5, 5)), "conv2d: "),
    ("lstm", lambda m: m.nn.LSTM(3, 2)(m.ones(5, 1, 4)), "LSTM: input.size"),
    ("view", lambda m: m.ones(2, 3).view(4), r"view: shape \[4\]"),
    ("expand", lambda m: m.ones(2, 3).expand(4, 4), "expand: "),
    ("add", lambda m: m.ones(2, 3) + m.ones(4), r"add: shapes \(2, 3\) and \(4,\) cannot be "
                                                 "broadcast"),
    ("mul", lambda m: m.ones(2, 3, requires_grad=True) * m.ones(2, 2), r"mul: shapes \(2, 3\)"),
    ("sub_", lambda m: m.ones(2, 3).sub_(m.ones(3, 2)), r"sub: shapes \(2, 3\) and \(3, 2\)"),
    ("eq", lambda m: m.ones(2, 3) == m.ones(2), r"equal: shapes \(2, 3\) and \(2,\)"),
    ("lt", lambda m: m.ones(2) < m.ones(3), r"less: shapes \(2,\) and \(3,\)"),
    ("add_", lambda m: m.zeros(2, 1).add_(m.ones(2, 3)),
     r"add_: output with shape \(2, 1\) doesn't match the broadcast shape \(2, 3\)"),
    ("iadd_in_graph", lambda m: (m.ones(2, 1, requires_grad=True) * 1).__iadd__(m.ones(2, 3)),
     r"__iadd__: output with shape \(2, 1\)"),
    ("copy_", lambda m: m.zeros(2, 1).copy_(m.ones(3)), r"copy_: shapes \(3,\) and \(2, 1\)"),
    ("setitem", lambda m: m.zeros(2, 1).__setitem__(slice(None), m.ones(3, 3)),
     r"index assignment: could not broadcast .*\(3,3\)"),
    ("t", lambda m: m.ones(2, 3, 4).t(), r"t\(\) expects .*\(2, 3, 4\)"),
    ("split_sections", lambda m: m.ones(5).split([2, 2]), r"split: sections \[2, 2\]"),
    ("mm_ndim", lambda m: m.mm(m.ones(2), m.ones(2, 2)), r"mm: expected 2-D .*\(2,\)"),
    ("bmm_ndim", lambda m: m.bmm(m.ones(2, 2), m.ones(2, 2)), r"bmm: expected 3-D"),
    ("flatten_order", lambda m: m.ones(2, 3, 4).flatten(2, 1), "flatten: start_dim 2"),
]


@pytest.mark.parametrize("name, call, message", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_shape_mismatches_are_runtime_errors_naming_op_and_shapes(name, call, message):
    with pytest.raises(RuntimeError, match=message) as info:
        call(ember)
    assert isinstance(info.value, ember.ShapeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("name, call, message", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_pytorch_raises_runtime_error_for_the_same_calls(name, call, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        call(torch)


INDEX_CASES = [
    ("embedding", lambda m: m.nn.Embedding(3, 2)(m.tensor([0, 5])),
     "embedding: index 5 is out of range for an embedding table of 3 rows"),
    ("embedding_negative", lambda m: m.nn.Embedding(3, 2)(m.tensor([-1])), "index -1"),
    ("nll_loss", lambda m: m.nn.functional.nll_loss(m.zeros(2, 3), m.tensor([0, 3])),
     "nll_loss: target 3 at position 1 is out of range for 3 classes"),
    ("cross_entropy", lambda m: m.nn.functional.cross_entropy(m.zeros(2, 3), m.tensor([7, 0])),
     "cross_entropy: target 7 at position 0"),
    ("softmax_dim", lambda m: m.softmax(m.zeros(2, 3), 2),
     r"softmax: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    ("log_softmax_dim", lambda m: m.nn.functional.log_softmax(m.zeros(2, 3), dim=-3),
     r"but got -3\) for shape \(2, 3\)"),
    ("cat_dim", lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 3)], 2), r"\[-2, 1\], but got 2"),
    ("stack_dim", lambda m: m.stack([m.zeros(2)], 2), r"\[-2, 1\], but got 2"),
    ("flatten_dim", lambda m: m.zeros(2, 3).flatten(0, 4), r"but got 4"),
    ("transpose_dim", lambda m: m.zeros(2, 3).transpose(0, 3), r"but got 3"),
    ("permute_dim", lambda m: m.zeros(2, 3).permute(0, 2), r"but got 2"),
    ("size_dim", lambda m: m.zeros(2, 3).size(-3), r"but got -3"),
    ("chunk_dim", lambda m: m.zeros(2, 3).chunk(2, 3), r"but got 3"),
    ("split_dim", lambda m: m.zeros(2, 3).split(1, 2), r"but got 2"),
    ("sum_dim", lambda m: m.zeros(2, 3).sum(5), r"but got 5"),
    ("getitem", lambda m: m.zeros(2, 3)[5], "index 5 is out of bounds"),
]


@pytest.mark.parametrize("name, call, message", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_out_of_range_indices_and_dims_are_index_errors(name, call, message):
    with pytest.raises(IndexError, match=message):
        call(ember)


@pytest.mark.parametrize("name, call, message", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_pytorch_raises_index_error_for_the_same_calls(name, call, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        call(torch)


def test_index_errors_from_kernels_are_still_value_errors():
    with pytest.raises(ValueError, match="out of range"):
        F.embedding(ember.tensor([9]), ember.ones(3, 2))
    with pytest.raises(ValueError, match="out of range"):
        F.nll_loss(ember.zeros(1, 2), ember.tensor([2]))


def test_a_training_script_catching_runtime_error_sees_the_shape_problem():
    model = nn.Linear(4, 2)
    caught = None
    try:
        model(ember.ones(3, 5))
    except RuntimeError as e:  # what a PyTorch script writes
        caught = str(e)
    assert caught is not None and "(3, 5)" in caught


def test_in_range_dims_still_work():
    x = ember.tensor(np.arange(6.0).reshape(2, 3))
    assert ember.cat([x, x], -1).shape == (2, 6)
    assert ember.stack([x, x], -1).shape == (2, 3, 2)
    assert x.flatten(-2, -1).shape == (6,)
    assert x.transpose(-1, -2).shape == (3, 2)
    assert x.permute(-1, 0).shape == (3, 2)
    assert x.size(-1) == 3 and ember.tensor(1.0).size() == ()
    assert [c.shape for c in x.chunk(2, -1)] == [(2, 2), (2, 1)]
    assert [s.shape for s in x.split(1, -2)] == [(1, 3), (1, 3)]
    assert F.softmax(x, -2).shape == (2, 3)
