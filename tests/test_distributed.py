"""ember.distributed and DistributedDataParallel on 2 and 4 MPI ranks started by mpiexec
(skipped without mpi4py/mpiexec): the collectives, N ranks with batch B ending with the weights
of one process with batch N*B, and failures (a hung or killed rank) ending the job in time."""
import time

import numpy as np
import pytest

import ember
import ember.distributed as dist
from distributed_launch import check_ok, run_ranks
from distributed_worker import B, STEPS, batches, make_bn_net, train_reference


def _load(out_dir, name, rank):
    return np.load(out_dir / f"{name}-rank{rank}.npz")


def test_collectives_on_two_ranks(tmp_path):
    check_ok(run_ranks(2, "collectives", tmp_path))
    for r in range(2):
        d = _load(tmp_path, "collectives", r)
        np.testing.assert_array_equal(d["SUM"], [3.0, -2.0, 6.0])
        np.testing.assert_array_equal(d["AVG"], [1.5, -1.0, 3.0])
        np.testing.assert_array_equal(d["MAX"], [2.0, 0.0, 3.0])
        np.testing.assert_array_equal(d["MIN"], [1.0, -2.0, 3.0])
        np.testing.assert_array_equal(d["broadcast"], [5.0, 6.0])
        np.testing.assert_array_equal(d["all_gather"], [[0, 0], [1, 10]])
        # rank r receives the sum over ranks q of input_list[r] = [q + r, 1]
        np.testing.assert_array_equal(d["reduce_scatter"], [1.0 + 2 * r, 2.0])
        assert bool(d["async_done"])
        errors = {k[len("error_"):]: str(d[k]) for k in d.files if k.startswith("error_")}
        assert errors["premul"].startswith("NotImplementedError: ember.distributed.all_reduce:")
        assert "PREMUL_SUM" in errors["premul"]
        assert errors["avg_int"].startswith("TypeError:") and "int64" in errors["avg_int"]
        assert errors["op_type"].startswith("TypeError:") and "ReduceOp" in errors["op_type"]
        assert "src=2 is not a rank of a group of 2" in errors["src"]
        assert "must be a list of world_size=2 tensors" in errors["list_len"]
        assert "shape (2,)" in errors["list_shape"] and "(3,)" in errors["list_shape"]
        assert errors["not_tensor"].startswith("TypeError:") and "ndarray" in errors["not_tensor"]
        assert "initialize the default process group twice" in errors["twice"]


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_matches_one_process_with_the_whole_batch(tmp_path, n):
    check_ok(run_ranks(n, "ddp", tmp_path))
    reference = train_reference(n)
    ranks = [_load(tmp_path, "ddp", r) for r in range(n)]
    for step in range(STEPS):
        for i, ref in enumerate(reference[step]):
            for d in ranks:  # same weights as one process, and identical on every rank
                np.testing.assert_allclose(d[f"step{step}_p{i}"], ref, rtol=0, atol=1e-12)
                np.testing.assert_array_equal(d[f"step{step}_p{i}"],
                                              ranks[0][f"step{step}_p{i}"])
    # inside no_sync the gradients stayed local: they differ from rank to rank
    assert not np.allclose(ranks[0]["no_sync_grad"], ranks[1]["no_sync_grad"])
    assert list(ranks[0]["state_dict_keys"]) == ["module.fc1.bias", "module.fc1.weight",
                                                 "module.fc2.bias", "module.fc2.weight"]
    for r, d in enumerate(ranks):
        assert bool(d["unused_grad_is_none"])
        np.testing.assert_array_equal(d["used_grad"], ranks[0]["used_grad"])
        assert "find_unused_parameters=True" in str(d["strict_error"])
        assert "spare.weight" in str(d["strict_error"])
    _check_batchnorm_statistics(ranks, n)


def _check_batchnorm_statistics(ranks, n):
    """Each rank's running mean moves by its own batch's mean, from rank 0's value (which DDP
    broadcasts before each forward) -- per-rank statistics, as PyTorch's DDP keeps them."""
    linear = make_bn_net()[0]
    previous = np.zeros(4)
    for step, (x, _) in enumerate(batches(n)[:2]):
        for r, d in enumerate(ranks):
            with ember.no_grad():
                local_mean = linear(ember.tensor(x[r * B:(r + 1) * B])).numpy().mean(0)
            np.testing.assert_allclose(d[f"bn_after{step}"], 0.9 * previous + 0.1 * local_mean,
                                       rtol=0, atol=1e-12)
        previous = ranks[0][f"bn_after{step}"]
    assert not np.allclose(ranks[0]["bn_after0"], ranks[1]["bn_after0"])


def test_a_hung_rank_makes_the_others_raise_within_the_timeout(tmp_path):
    start = time.monotonic()
    result = run_ranks(2, "hang", tmp_path, 3, timeout=60)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert "DistBackendError" in result.stderr
    assert "all_reduce: timed out after 3 s on rank 0 of 2" in result.stderr
    assert "aborting the MPI job" in result.stderr
    assert elapsed < 60  # rank 1 sleeps 600 s: only the abort ends the job before that


def test_a_killed_rank_ends_the_job_with_an_error(tmp_path):
    result = run_ranks(2, "kill", tmp_path, timeout=60)
    assert result.returncode != 0
    assert "rank 1" in result.stderr and "signal 9" in result.stderr


def test_without_a_process_group_the_calls_say_so():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(ember.ones(2))
    with pytest.raises(ValueError, match="init_process_group"):
        ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="backend 'nccl'"):
        dist.init_process_group("nccl")


def test_importing_needs_no_mpi_and_starting_names_the_extra(monkeypatch):
    import subprocess
    import sys
    code = ("import sys, ember, ember.distributed, ember.nn.parallel, ember.utils.data\n"
            "assert 'mpi4py' not in sys.modules, 'importing ember loaded mpi4py'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "ember\[mpi\]"'):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@pytest.mark.parametrize("timeout, error", [(0, ValueError), (-1.5, ValueError),
                                            ("60", TypeError), (True, TypeError)])
def test_bad_timeouts_are_refused_before_mpi_starts(timeout, error):
    import datetime
    with pytest.raises(error, match="timeout must be"):
        dist.init_process_group("mpi", timeout=timeout)
    with pytest.raises(ValueError, match="timeout must be positive"):
        dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=0))
    assert not dist.is_initialized()
