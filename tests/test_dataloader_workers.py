"""DataLoader with worker processes (num_workers > 0): same batches as in-process loading,
per-worker seeding and info, persistent workers, errors and clean shutdown."""
import gc
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset,
                              get_worker_info)


@pytest.fixture(autouse=True)
def ctrl_c_raises_keyboard_interrupt():
    """Ctrl+C as in a terminal: a process started in the background (`cmd &` in a script) begins
    with SIGINT ignored, and its children and forked workers inherit that, so the Ctrl+C tests
    would see nothing happen. Python's own handler is set for each test (and, not being
    SIG_IGN, it is reset to the default in the scripts these tests start)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Numbers(Dataset):
    """Sample i: (a float vector filled with i, i) — a generic dataset, collated per sample."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return np.full((3,), i, np.float32), i

    def __len__(self):
        return self.n


class WhoLoads(Dataset):
    """Sample i: which worker loaded it, that worker's seed, and draws from each generator."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return {"worker": info.id, "seed": info.seed, "ember": ember.rand(1).item(),
                "python": random.random(), "numpy": float(np.random.rand())}


class Sharded(IterableDataset):
    """0..n-1, each worker taking every num_workers-th number from its id."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class Replicated(IterableDataset):
    def __iter__(self):
        return iter(range(5))


class FailsAt(Dataset):
    def __init__(self, bad, error):
        self.bad, self.error = bad, error

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error
        return i


class NeedsTwoArguments(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)


class Slow(Dataset):
    def __init__(self, seconds):
        self.seconds = seconds

    def __len__(self):
        return 100

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return i


class DiesAt(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3:
            os._exit(1)
        return i


def _running(pid):
    """True while pid is a live process (a zombie, exited but not reaped, counts as running:
    the test is that the loader reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _executing(pid):
    """True while pid runs (zombies excluded: an orphan's reaping is not ours to test)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _pids(iterator):
    return [w.pid for w in iterator._workers]


def _values(loader):
    return [[t.tolist() for t in batch] if isinstance(batch, list) else batch.tolist()
            for batch in loader]


# ---- same batches as num_workers=0 -------------------------------------------------------------

@pytest.mark.parametrize("dataset", [Numbers(23), TensorDataset(ember.arange(23.0),
                                                                 ember.arange(23))],
                         ids=["generic", "tensor_dataset"])
@pytest.mark.parametrize("num_workers", [1, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_workers_give_the_same_batches_in_the_same_order(dataset, num_workers, drop_last):
    def epochs(workers):
        loader = DataLoader(dataset, batch_size=4, shuffle=True, drop_last=drop_last,
                            num_workers=workers, generator=ember.Generator().manual_seed(7))
        return [_values(loader) for _ in range(2)]

    serial = epochs(0)
    assert serial[0] != serial[1]  # each epoch a new order
    assert epochs(num_workers) == serial


def test_ember_manual_seed_alone_gives_the_same_order_with_and_without_workers():
    def epoch(workers):
        ember.manual_seed(5)
        return _values(DataLoader(Numbers(30), batch_size=4, shuffle=True, num_workers=workers))

    serial = epoch(0)
    indices = [i for _, batch in serial for i in batch]
    assert sorted(indices) == list(range(30)) and indices != list(range(30))
    assert epoch(2) == serial


def test_batches_are_ember_tensors_of_the_collated_dtypes():
    (x, i), = list(DataLoader(Numbers(3), batch_size=3, num_workers=2))
    assert isinstance(x, ember.Tensor) and x.dtype == ember.float32 and x.shape == (3, 3)
    assert isinstance(i, ember.Tensor) and i.dtype == ember.int64 and i.tolist() == [0, 1, 2]


def test_unbatched_loading_and_prefetch_factor():
    loader = DataLoader(Numbers(5), batch_size=None, num_workers=2, prefetch_factor=1)
    assert [i for _, i in loader] == [0, 1, 2, 3, 4] and loader.prefetch_factor == 1
    assert DataLoader(Numbers(5), num_workers=2).prefetch_factor == 2  # PyTorch's default


def test_out_of_order_loading_gives_every_batch_once():
    loader = DataLoader(Numbers(20), batch_size=3, num_workers=3, in_order=False)
    batches = [i.tolist() for _, i in loader]
    assert sorted(sum(batches, [])) == list(range(20)) and len(batches) == 7


# ---- seeds, worker info, worker_init_fn ----------------------------------------------------------

def test_each_worker_has_its_own_reproducible_random_streams():
    def load(seed):
        loader = DataLoader(WhoLoads(), batch_size=None, num_workers=2,
                            generator=ember.Generator().manual_seed(seed))
        return list(loader)

    first = load(1)
    assert [s["worker"] for s in first] == [0, 1] * 6
    base = first[0]["seed"]
    assert all(s["seed"] == base + s["worker"] for s in first)
    for stream in ("ember", "python", "numpy"):
        by_worker = [[s[stream] for s in first if s["worker"] == w] for w in (0, 1)]
        assert by_worker[0] != by_worker[1], stream  # augmentations differ between workers
    assert load(1) == first  # ... and repeat with the seed
    assert load(2) != first


def test_get_worker_info_is_none_in_the_main_process_and_read_only_in_workers():
    assert get_worker_info() is None

    class Info(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = get_worker_info()
            try:
                info.id = 5
            except RuntimeError as error:
                refused = str(error)
            return (info.id, info.num_workers, info.dataset is self, refused, repr(info))

    samples = list(DataLoader(Info(), batch_size=None, num_workers=2))
    assert [s[:3] for s in samples] == [[0, 2, True], [1, 2, True]]  # tuples become lists
    assert samples[0][3] == "Cannot assign attributes to WorkerInfo objects"
    assert samples[0][4].startswith("WorkerInfo(id=0, num_workers=2, seed=")


def test_worker_init_fn_runs_in_each_worker_before_loading():
    class Tagged(Dataset):
        tag = None

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return self.tag

    def init(worker_id):
        info = get_worker_info()
        info.dataset.tag = f"worker {worker_id} of {info.num_workers}, pid {os.getpid()}"

    tags = list(DataLoader(Tagged(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert [t.split(",")[0] for t in tags] == ["worker 0 of 2", "worker 1 of 2"] * 2
    assert str(os.getpid()) not in tags[0]  # loaded in another process
    assert Tagged.tag is None  # the main process's dataset is untouched


# ---- IterableDataset ---------------------------------------------------------------------------

def test_iterable_dataset_sharded_with_worker_info():
    loader = DataLoader(Sharded(10), batch_size=3, num_workers=2)
    assert _values(loader) == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]  # PyTorch's interleaving
    assert _values(DataLoader(Sharded(10), batch_size=3, num_workers=2, drop_last=True)) == [
        [0, 2, 4], [1, 3, 5]]
    assert list(DataLoader(Sharded(7), batch_size=None, num_workers=3)) == list(range(7))
    # More workers than samples: idle workers end at once.
    assert _values(DataLoader(Sharded(2), batch_size=2, num_workers=4)) == [[0], [1]]


def test_iterable_dataset_batches_interleave_as_torch_does():
    torch = pytest.importorskip("torch")

    class TorchSharded(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            return iter(range(info.id, 11, info.num_workers))

    for num_workers, batch_size, drop_last in [(2, 3, False), (2, 2, True), (2, None, False)]:
        ours = DataLoader(Sharded(11), batch_size=batch_size, drop_last=drop_last,
                          num_workers=num_workers)
        theirs = torch.utils.data.DataLoader(TorchSharded(), batch_size=batch_size,
                                             drop_last=drop_last, num_workers=num_workers)
        if batch_size is None:
            assert list(ours) == list(theirs)
        else:
            assert _values(ours) == [b.tolist() for b in theirs]


def test_iterable_dataset_without_sharding_is_replicated_per_worker():
    # What PyTorch does too: each worker iterates its own full copy.
    assert sorted(DataLoader(Replicated(), batch_size=None, num_workers=2)) == sorted(
        list(range(5)) * 2)


# ---- persistent workers ------------------------------------------------------------------------

def test_persistent_workers_serve_every_epoch_and_survive_a_break():
    loader = DataLoader(Numbers(10), batch_size=3, shuffle=True, num_workers=2,
                        persistent_workers=True, generator=ember.Generator().manual_seed(0))
    iterator = iter(loader)
    pids = _pids(iterator)
    first = [i.tolist() for _, i in iterator]
    assert sorted(sum(first, [])) == list(range(10))
    for _, i in loader:  # leave the second epoch after one batch
        break
    third = [i.tolist() for _, i in loader]
    assert sorted(sum(third, [])) == list(range(10)) and len(third) == 4
    assert iter(loader) is iterator and _pids(iterator) == pids
    assert all(_running(pid) for pid in pids)
    del loader, iterator
    gc.collect()
    assert not any(_running(pid) for pid in pids)


def test_persistent_workers_stopped_by_ctrl_c_are_replaced_next_epoch():
    loader = DataLoader(Numbers(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert len(list(loader)) == 3
    old = loader._iterator
    for worker in old._workers:  # what Ctrl+C does to workers: they leave quietly
        os.kill(worker.pid, signal.SIGINT)
        worker.join(timeout=30)
    assert [w.exitcode for w in old._workers] == [0, 0]
    assert [i.tolist() for _, i in loader] == [[0, 1], [2, 3], [4, 5]]
    assert loader._iterator is not old and loader._iterator.workers_alive()


def test_persistent_iterable_dataset_restarts_its_stream_each_epoch():
    loader = DataLoader(Sharded(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert _values(loader) == [[0, 2], [1, 3], [4], [5]]
    assert _values(loader) == [[0, 2], [1, 3], [4], [5]]


# ---- start methods -----------------------------------------------------------------------------

def test_spawn_context_loads_the_same_batches():
    dataset = TensorDataset(ember.arange(10.0))
    expected = _values(DataLoader(dataset, batch_size=4))
    for context in ("spawn", __import__("multiprocessing").get_context("spawn")):
        assert _values(DataLoader(dataset, batch_size=4, num_workers=2,
                                  multiprocessing_context=context)) == expected


class PicklesOnce(Dataset):
    """Can be sent to one spawned worker, not to a second."""
    times_pickled = 0

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i

    def __getstate__(self):
        PicklesOnce.times_pickled += 1
        if PicklesOnce.times_pickled > 1:
            raise TypeError("PicklesOnce: pickled a second time")
        return self.__dict__


def test_a_worker_that_cannot_start_stops_those_that_did():
    import multiprocessing
    loader = DataLoader(PicklesOnce(), num_workers=2, multiprocessing_context="spawn")
    with pytest.raises(TypeError, match="pickled a second time"):
        iter(loader)
    assert PicklesOnce.times_pickled == 2  # the first worker had started
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(num_workers=2, multiprocessing_context="threads"), ValueError,
     "multiprocessing_context option should specify a valid start method in"),
    (dict(num_workers=2, multiprocessing_context=3), TypeError,
     "multiprocessing_context option should be a valid context object"),
    (dict(multiprocessing_context="spawn"), ValueError,
     "multiprocessing_context can only be used with multi-process loading"),
    (dict(num_workers=2, prefetch_factor=0), ValueError,
     "prefetch_factor option should be a positive integer, got prefetch_factor=0"),
    (dict(num_workers=2, prefetch_factor=1.5), ValueError, "prefetch_factor option should be"),
])
def test_worker_option_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(TensorDataset(ember.zeros(4)), **kwargs)


def test_pin_memory_is_accepted_and_warns_as_without_an_accelerator():
    loader = DataLoader(Numbers(4), batch_size=2, num_workers=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        assert [i.tolist() for _, i in loader] == [[0, 1], [2, 3]]


# ---- errors and shutdown -----------------------------------------------------------------------

def test_an_exception_in_a_worker_is_reraised_with_its_traceback_and_workers_are_reaped():
    iterator = iter(DataLoader(FailsAt(5, ValueError("bad sample 5")), batch_size=2,
                               num_workers=2))
    pids = _pids(iterator)
    assert next(iterator).tolist() == [0, 1]
    with pytest.raises(ValueError) as caught:
        for _ in iterator:
            pass
    message = str(caught.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 0.")
    assert "Original Traceback (most recent call last):" in message
    assert "raise self.error" in message and "ValueError: bad sample 5" in message
    del iterator, caught
    gc.collect()
    assert not any(_running(pid) for pid in pids)


def test_worker_errors_keep_their_type_where_they_can():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        list(DataLoader(FailsAt(1, KeyError("missing")), batch_size=None, num_workers=2))
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArguments in DataLoader worker"):
        list(DataLoader(FailsAt(0, NeedsTwoArguments(1, "x")), batch_size=None, num_workers=2))

    def broken_init(worker_id):
        raise OSError(f"cannot open shard {worker_id}")

    with pytest.raises(OSError, match="(?s)Caught OSError.*cannot open shard 0"):
        list(DataLoader(Numbers(4), num_workers=2, worker_init_fn=broken_init))


def test_a_stream_that_fails_to_start_reports_it_in_every_epoch():
    class Unreadable(IterableDataset):
        def __iter__(self):
            raise FileNotFoundError("shard-0.txt")

    loader = DataLoader(Unreadable(), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):  # the second epoch restarts the streams of the same workers
        with pytest.raises(FileNotFoundError, match="(?s)Caught FileNotFoundError in "
                                                    "DataLoader worker process 0.*shard-0"):
            list(loader)


def test_a_batch_carrying_an_autograd_graph_cannot_cross_processes():
    weights = ember.randn(4, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        list(DataLoader(TensorDataset(weights), batch_size=2, num_workers=1))


def test_leaving_the_loop_early_reaps_every_worker():
    iterator = iter(DataLoader(Numbers(100), batch_size=2, num_workers=3))
    pids = _pids(iterator)
    for _ in iterator:
        break
    assert all(_running(pid) for pid in pids)  # the iterator still exists
    del iterator
    gc.collect()
    assert not any(_running(pid) for pid in pids)


def test_a_finished_epoch_reaps_every_worker():
    iterator = iter(DataLoader(Numbers(6), batch_size=2, num_workers=2))
    pids = _pids(iterator)
    assert len(list(iterator)) == 3
    assert not any(_running(pid) for pid in pids)


def test_timeout_raises_when_a_batch_takes_too_long():
    iterator = iter(DataLoader(Slow(1.5), batch_size=None, num_workers=1, timeout=0.3))
    pids = _pids(iterator)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(iterator)
    del iterator
    gc.collect()
    assert not any(_running(pid) for pid in pids)


def test_a_worker_that_dies_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(DataLoader(DiesAt(), batch_size=None, num_workers=2))


def _run_script(body, **kwargs):
    script = textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def test_ctrl_c_stops_the_loop_and_every_worker_quietly():
    process = _run_script("""
        import gc, os, time
        from ember.utils.data import DataLoader, Dataset

        class Slow(Dataset):
            def __len__(self):
                return 1000
            def __getitem__(self, i):
                time.sleep(0.05)
                return i

        pids = []
        try:
            iterator = iter(DataLoader(Slow(), batch_size=2, num_workers=2))
            pids = [w.pid for w in iterator._workers]
            for batch in iterator:
                print("ready", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        del iterator
        gc.collect()
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        print("alive workers:", alive, flush=True)
    """, start_new_session=True)
    assert process.stdout.readline() == "ready\n"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C does: the whole process group
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "interrupted" in out and "alive workers: []" in out, out + err
    assert "Traceback" not in err, err  # the workers exit without a traceback each


def test_workers_run_ember_kernels_after_the_parent_used_two_threads():
    # A forked child that opens an OpenMP (libgomp) parallel region after its parent started
    # its thread pool hangs; workers therefore run ember on one thread.
    process = _run_script("""
        import ember, ember.nn as nn
        from ember.utils.data import DataLoader, Dataset

        ember.set_num_threads(2)
        conv = nn.Conv2d(3, 16, 3)
        a = ember.randn(256, 256)
        for _ in range(10):
            (a @ a).relu().sum()
            conv(ember.randn(8, 3, 32, 32)).sum().backward()

        class Augmented(Dataset):
            def __len__(self):
                return 8
            def __getitem__(self, i):
                x = ember.randn(256, 256)
                y = conv(ember.randn(4, 3, 32, 32)).sum()
                return ((x @ x).relu().sum() + y).detach(), ember.get_num_threads()

        batches = list(DataLoader(Augmented(), batch_size=2, num_workers=2))
        print(len(batches), sorted(set(sum((t.tolist() for _, t in batches), []))),
              ember.get_num_threads())
    """)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.split() == ["4", "[1]", "2"], out + err  # 1 thread in workers, 2 in the parent


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
def test_workers_exit_when_the_main_process_is_killed():
    process = _run_script("""
        import time
        from ember.utils.data import DataLoader, TensorDataset
        import ember

        loader = DataLoader(TensorDataset(ember.arange(10)), num_workers=2,
                            persistent_workers=True)
        iterator = iter(loader)
        print(*[w.pid for w in iterator._workers], flush=True)
        time.sleep(60)
    """)
    pids = [int(pid) for pid in process.stdout.readline().split()]
    assert len(pids) == 2 and all(_executing(pid) for pid in pids)
    process.kill()  # SIGKILL: no cleanup code runs in the main process
    process.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while any(_executing(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_executing(pid) for pid in pids)
