"""Grad mode is per thread, as in PyTorch: no_grad in one thread leaves the others recording."""
import threading

import numpy as np

import ember


def test_no_grad_in_one_thread_leaves_another_thread_recording():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def inference():
        with ember.no_grad():
            entered.set()
            release.wait(10)
            seen["inference"] = ember.is_grad_enabled()

    worker = threading.Thread(target=inference)
    worker.start()
    try:
        assert entered.wait(10)
        assert ember.is_grad_enabled()  # the other thread's no_grad is not ours
        w = ember.tensor(np.array([1.0, 2.0]), requires_grad=True)
        (w * w).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    finally:
        release.set()
        worker.join(10)
    assert seen["inference"] is False


def test_a_new_thread_starts_with_gradients_on_whatever_the_caller_does():
    seen = []
    with ember.no_grad():
        worker = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        worker.start()
        worker.join(10)
        assert not ember.is_grad_enabled()
    assert seen == [True] and ember.is_grad_enabled()


def test_interleaved_no_grad_blocks_in_many_threads_restore_each_threads_mode():
    errors = []

    def train_steps():
        try:
            for _ in range(200):
                w = ember.tensor(np.ones(3), requires_grad=True)
                (w * 3.0).sum().backward()
                assert w.grad is not None and ember.is_grad_enabled()
        except Exception as exc:  # reported below
            errors.append(exc)

    def inference_steps():
        for _ in range(200):
            with ember.no_grad():
                ember.ones(3) * 2.0

    threads = [threading.Thread(target=f) for f in (train_steps, inference_steps) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and ember.is_grad_enabled()
