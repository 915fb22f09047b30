"""Tensor.share_memory_ / Module.share_memory with ember.multiprocessing: another process
(spawned, as pytorch/examples mnist_hogwild starts them) writes into the same weights."""
import numpy as np
import pytest

import ember
import ember.multiprocessing as mp


def _add_one(t):
    with ember.no_grad():
        t.add_(1)


def _sgd_step(model, x, y):
    optimizer = ember.optim.SGD(model.parameters(), lr=0.5)
    loss = ember.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()


def _run(target, *args):
    process = mp.get_context("spawn").Process(target=target, args=args)
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 0


def test_share_memory_keeps_values_and_reports_sharing_like_pytorch():
    torch = pytest.importorskip("torch")
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, reference = ember.tensor(data), torch.tensor(data)
    assert t.is_shared() == reference.is_shared() == False  # noqa: E712
    assert t.share_memory_() is t and reference.share_memory_() is reference
    assert t.is_shared() and reference.is_shared()
    assert t.tolist() == reference.tolist() and t.dtype == ember.float32
    assert t.share_memory_().is_shared()  # twice: still the same segment
    assert not (t + 1).is_shared()  # results of ops are ordinary tensors


def test_a_spawned_process_writes_into_a_shared_tensor():
    shared = ember.zeros(3).share_memory_()
    private = ember.zeros(3)
    _run(_add_one, shared)
    _run(_add_one, private)
    assert shared.tolist() == [1.0, 1.0, 1.0]
    assert private.tolist() == [0.0, 0.0, 0.0]  # not shared: the process had a copy


def test_module_share_memory_lets_a_process_train_the_parents_model():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    x, y = ember.randn(8, 3), ember.randn(8, 2)
    expected = ember.nn.Linear(3, 2)
    expected.load_state_dict(model.state_dict())
    _sgd_step(expected, x, y)  # the same step, here
    _run(_sgd_step, model, x, y)
    for ours, theirs in zip(model.parameters(), expected.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert model.weight.grad is None  # gradients were the process's own


def test_multiprocessing_is_the_standard_librarys():
    import multiprocessing
    assert mp.Process is multiprocessing.Process and mp.set_start_method is \
        multiprocessing.set_start_method
