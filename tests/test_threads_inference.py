"""Threads sharing ember (issue 11, item 5): inference on one shared model in several threads
gives bitwise the sequential results while another thread trains its own model, and kernels
release the GIL so that Python threads really run beside them."""
import sys
import threading

import numpy as np

import ember
from ember import nn


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                         nn.ReLU(), nn.Flatten(), nn.Linear(16 * 3 * 3, 10))


def _run_threads(targets, timeout=120):
    errors = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as err:  # reported by the test, not lost in the thread
                errors.append(err)
        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def test_threaded_inference_is_bitwise_sequential_while_another_thread_trains():
    ember.manual_seed(0)
    shared = _cnn().eval()
    rng = np.random.default_rng(0)
    batches = [ember.from_numpy(rng.standard_normal((4, 1, 12, 12)).astype(np.float32))
               for _ in range(6)]
    with ember.no_grad():
        expected = [shared(x).numpy() for x in batches]

    trained = _cnn()
    optimizer = ember.optim.Adam(trained.parameters(), lr=1e-3)
    x_train = ember.from_numpy(rng.standard_normal((16, 1, 12, 12)).astype(np.float32))
    y_train = ember.from_numpy(rng.integers(0, 10, 16))
    losses = []

    def train():
        for _ in range(15):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(trained(x_train), y_train)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    results = {}

    def infer(worker):
        def run():
            out = []
            for _ in range(5):
                with ember.no_grad():
                    out.append([shared(x).numpy() for x in batches])
            results[worker] = out
        return run

    _run_threads([train] + [infer(i) for i in range(4)])
    for worker in range(4):
        for repeat in results[worker]:
            for got, want in zip(repeat, expected):
                np.testing.assert_array_equal(got, want)
    assert len(losses) == 15 and losses[-1] < losses[0]  # the trainer really trained


def test_kernels_release_the_gil():
    # With a switch interval far longer than the test, a thread holding the GIL keeps it until
    # it blocks or ends. The main thread waits for the worker to enter a long kernel; it can
    # only wake up before that kernel has finished if the kernel released the GIL.
    rng = np.random.default_rng(1)
    a = ember.from_numpy(rng.standard_normal((2000, 2000)).astype(np.float32))
    entering, finished = threading.Event(), []

    def kernel():
        entering.set()
        ember.matmul(a, a)
        finished.append(True)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        worker = threading.Thread(target=kernel)
        worker.start()
        assert entering.wait(60)
        finished_when_main_ran = list(finished)
    finally:
        sys.setswitchinterval(old_interval)
    worker.join(60)
    assert finished == [True]
    assert finished_when_main_ran == []
