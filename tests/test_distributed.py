"""ember.distributed and DistributedDataParallel on 2 and 4 MPI ranks started by mpiexec
(skipped without mpi4py/mpiexec): the collectives, N ranks with batch B ending with the weights
of one process with batch N*B (with the all_reduce overlapping backward, bit for bit as without),
SyncBatchNorm on N ranks equal to BatchNorm on the whole batch, and failures (a hung or killed
rank) ending the job in time."""
import time

import numpy as np
import pytest

import ember
import ember.distributed as dist
from distributed_launch import check_ok, run_ranks
from distributed_worker import (B, STEPS, batches, make_bn_net, train_reference,
                                train_syncbn_reference)


def _load(out_dir, name, rank):
    return np.load(out_dir / f"{name}-rank{rank}.npz")


def _load_all(out_dir, name, rank):
    with np.load(out_dir / f"{name}-rank{rank}.npz") as d:
        return dict(d)


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


@pytest.fixture(scope="module", params=[2, 4])
def ddp_run(request, tmp_path_factory):
    """One run of the worker's ddp scenario (which ends with the syncbn one) on n ranks, shared
    by the tests that read it: (n, the directory of its files)."""
    n = request.param
    out = tmp_path_factory.mktemp(f"ddp{n}")
    check_ok(run_ranks(n, "ddp", out))
    return n, out


def test_ddp_matches_one_process_with_the_whole_batch(ddp_run):
    n, out = ddp_run
    ranks = [_load_all(out, "ddp", r) for r in range(n)]
    reference = train_reference(n)
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
        # a layer only rank 0 used: its gradient averaged with the others' zeros
        np.testing.assert_allclose(d["spare_grad"], ranks[0]["spare_local_grad"] / n,
                                   rtol=0, atol=1e-15)
        assert "find_unused_parameters=True" in str(d["strict_error"])
        assert "spare.weight" in str(d["strict_error"])
    _check_batchnorm_statistics(ranks, n)


def test_ddp_overlaps_the_all_reduce_with_backward_bit_for_bit(ddp_run):
    n, out = ddp_run
    for d in (_load_all(out, "ddp", r) for r in range(n)):
        # four buckets; the first (the last layer's) started before backward reached the first
        # layer; without overlap every bucket started after backward
        assert int(d["buckets"]) == 4
        assert not d["fc1_grad_at_start"][0] and d["fc1_grad_at_start"][-1]
        assert list(d["serial_fc1_grad_at_start"]) == [True] * 4
        assert int(d["hooks_left"]) == 0  # a dropped DDP leaves no hook on its module
        for step in range(STEPS):  # the same messages in the same order: the same bits
            for i in range(4):
                np.testing.assert_array_equal(d[f"step{step}_p{i}"], d[f"serial_step{step}_p{i}"])


def test_sync_batchnorm_on_n_ranks_matches_batchnorm_on_the_whole_batch(ddp_run):
    n, out = ddp_run
    ranks = [_load_all(out, "syncbn", r) for r in range(n)]
    reference = train_syncbn_reference(n)
    for r, d in enumerate(ranks):
        assert str(d["layer_type"]) == "SyncBatchNorm"
        rows = slice(r * B, (r + 1) * B)
        for step in range(STEPS):
            # the forward normalised with the statistics of all ranks' samples
            np.testing.assert_allclose(d[f"step{step}_logits"],
                                       reference[f"step{step}_logits"][rows], rtol=0, atol=1e-12)
            # each rank's input gradient is that of the sum of all ranks' mean losses, n times
            # the one-process gradient of the mean over the whole batch
            np.testing.assert_allclose(d[f"step{step}_x_grad"],
                                       n * reference[f"step{step}_x_grad"][rows], rtol=0,
                                       atol=1e-12)
            for key in ("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"):
                np.testing.assert_allclose(d[f"step{step}_{key}"],
                                           reference[f"step{step}_{key}"], rtol=0, atol=1e-12,
                                           err_msg=f"{key} after step {step} on rank {r}")
                np.testing.assert_array_equal(d[f"step{step}_{key}"],
                                              ranks[0][f"step{step}_{key}"])
        # eval mode: each rank normalises with the (shared) running statistics
        np.testing.assert_allclose(d["eval_logits"], reference["eval_logits"][rows], rtol=0,
                                   atol=1e-12)
        assert str(d["shape_error"]).startswith("ShapeError: SyncBatchNorm: expected weight of "
                                                "shape (3,) for input of shape (2, 3)")
    _check_empty_rank(ranks)


def _check_empty_rank(ranks):
    """Rank 0 had no samples: the others' statistics are those of their samples alone."""
    x = np.concatenate([d["empty_x"] for d in ranks])
    g = np.concatenate([d["empty_g"] for d in ranks])
    bn = ember.nn.BatchNorm1d(4).double()
    xt = ember.tensor(x, requires_grad=True)
    y = bn(xt)
    (y * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(np.concatenate([d["empty_y"] for d in ranks]), y.detach().numpy(),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([d["empty_x_grad"] for d in ranks]),
                               xt.grad.numpy(), rtol=0, atol=1e-12)
    for key, grad in (("empty_w_grad", bn.weight.grad), ("empty_b_grad", bn.bias.grad)):
        np.testing.assert_allclose(sum(d[key] for d in ranks), grad.numpy(), rtol=0, atol=1e-12)
    for d in ranks:
        np.testing.assert_allclose(d["empty_running_var"], bn.running_var.numpy(), rtol=0,
                                   atol=1e-12)
    assert ranks[0]["empty_y"].shape == (0, 4)


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
