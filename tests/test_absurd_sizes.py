"""Absurd sizes are refused before anything is allocated or looped over (issue 11: creation
functions asked for 2**40 elements, RNN(num_layers=2**31) looping, one_hot of 3 labels peaking
at +3 GB)."""
import tracemalloc

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import _bounds


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2**40), lambda: ember.ones(2**20, 2**20), lambda: ember.empty(2**50),
    lambda: ember.full((2**40,), 1.0), lambda: ember.rand(2**20, 2**20),
    lambda: ember.randn(2**40, dtype=ember.float64), lambda: ember.randint(0, 5, (2**40,)),
    lambda: ember.eye(2**25), lambda: ember.arange(2**50), lambda: ember.linspace(0, 1, 2**50),
    lambda: ember.randperm(2**40),
], ids=["zeros", "ones", "empty", "full", "rand", "randn", "randint", "eye", "arange",
        "linspace", "randperm"])
def test_creation_beyond_memory_names_the_op_and_the_bytes(make):
    with pytest.raises(ember.OutOfMemoryError, match=r"cannot allocate a tensor of shape .* "
                                                     r"needs \d+ bytes"):
        make()


@pytest.mark.parametrize("make", [lambda: ember.zeros(2**62, 4), lambda: ember.empty(2**32, 2**32),
                                  lambda: ember.eye(2**40, 2**40)], ids=["zeros", "empty", "eye"])
def test_creation_whose_bytes_overflow_int64_says_so(make):
    with pytest.raises(ember.OutOfMemoryError, match="storage size calculation overflowed"):
        make()


def test_the_error_is_a_runtime_error_as_pytorch_and_a_memory_error_as_numpy():
    assert issubclass(ember.OutOfMemoryError, RuntimeError)
    assert issubclass(ember.OutOfMemoryError, MemoryError)


def test_sizes_that_fit_are_still_created():
    assert ember.zeros(2**10, 2**10).shape == (1024, 1024)
    assert ember.arange(0, 10, 3).tolist() == [0, 3, 6, 9]
    assert ember.arange(5, 0).numel() == 0
    assert ember.eye(3, 2).shape == (3, 2)


def test_the_memory_limit_is_this_machines_or_the_rlimit():
    limit = _bounds.memory_limit()
    assert 0 < limit <= _bounds.INT64_MAX
    with pytest.raises(ember.OutOfMemoryError):
        _bounds.check_alloc("op", (limit // 4 + 1,), 4)
    _bounds.check_alloc("op", (min(limit, 2**30) // 4,), 4)  # does not raise


def test_one_hot_of_three_labels_and_many_classes_stays_small():
    labels = ember.tensor([1, 2, 19999])
    tracemalloc.start()
    try:
        out = F.one_hot(labels, 20000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 3 * 20000 * 8  # a few copies of the (3, 20000) int64 result, not 3.2 GB
    expected = np.zeros((3, 20000), np.int64)
    expected[[0, 1, 2], [1, 2, 19999]] = 1
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == ember.int64


def test_one_hot_keeps_its_shape_and_checks_for_any_rank():
    labels = ember.tensor([[0, 2], [1, 1]])
    np.testing.assert_array_equal(F.one_hot(labels, 3).numpy(), np.eye(3, dtype=np.int64)[
        labels.numpy()])
    assert F.one_hot(labels).shape == (2, 2, 3)
    assert F.one_hot(ember.tensor([], dtype=ember.int64), 4).shape == (0, 4)
    with pytest.raises(ember.OutOfMemoryError, match="one_hot"):
        F.one_hot(ember.tensor([1, 2, 3]), 2**40)


def test_one_hot_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    labels = np.array([[3, 0], [2, 4]])
    np.testing.assert_array_equal(
        F.one_hot(ember.tensor(labels), 6).numpy(),
        torch.nn.functional.one_hot(torch.tensor(labels), 6).numpy())


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_recurrent_layers_refuse_absurd_depth_before_building(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: num_layers=2147483648 is more than "
                                         "ember builds"):
        cls(3, 4, num_layers=2**31)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_recurrent_layers_refuse_parameters_beyond_memory(cls):
    with pytest.raises(ember.OutOfMemoryError, match=rf"{cls.__name__}: cannot allocate its "
                                                     r"parameters \(num_layers=1\): it needs "
                                                     r"\d+ bytes"):
        cls(2**20, 2**20)


def test_recurrent_layers_of_sane_depth_still_build():
    lstm = nn.LSTM(2, 3, num_layers=3, bidirectional=True)
    assert len(lstm.all_weights) == 6
    out, _ = lstm(ember.randn(4, 1, 2))
    assert out.shape == (4, 1, 6)
