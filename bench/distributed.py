"""Data-parallel training speed over MPI: samples/s of the digits CNN (examples/
distributed_digits.py's Net, batch 64 per rank, SGD) on 1, 2 and 4 ranks, each rank one thread,
and the share of the step spent averaging gradients (DistributedDataParallel's all_reduce).

    python -m bench.distributed                 # 1, 2 and 4 ranks; writes bench/RESULTS-distributed.md
    python -m bench.distributed --ranks 1 2 --steps 100 --output-dir /tmp

Weak scaling, as Horovod reports it: every rank trains its own batch of 64 per step, so N
ranks process N*64 samples per step. Needs `pip install "ember[mpi]"`; never part of pytest."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

BATCH = 64
HERE = os.path.dirname(os.path.abspath(__file__))


def worker(steps, warmup):
    """One rank: trains and reports (rank 0) the slowest rank's time and the all_reduce share."""
    import numpy as np

    import ember
    import ember.distributed as dist
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel as DDP
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
    from distributed_digits import Net

    dist.init_process_group("mpi")
    ember.set_num_threads(1)
    model = DDP(Net())
    reduce_time = [0.0]
    reduce = model._reduce_gradients

    def timed_reduce():  # the bench's own stopwatch around the gradient averaging
        start = time.perf_counter()
        reduce()
        reduce_time[0] += time.perf_counter() - start
    model._reduce_gradients = timed_reduce
    opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    rng = np.random.default_rng(dist.get_rank())
    x = ember.from_numpy(rng.random((BATCH, 1, 8, 8), dtype=np.float32))
    y = ember.from_numpy(rng.integers(0, 10, BATCH))

    def step():
        opt.zero_grad()
        F.nll_loss(model(x), y).backward()
        opt.step()
    for _ in range(warmup):
        step()
    dist.barrier()
    reduce_time[0] = 0.0
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    figures = ember.tensor([elapsed, reduce_time[0] / elapsed], dtype=ember.float64)
    slowest = figures.clone()
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    dist.all_reduce(figures, op=dist.ReduceOp.AVG)
    if dist.get_rank() == 0:
        n = dist.get_world_size()
        print(json.dumps({"ranks": n, "samples_per_s": n * BATCH * steps / slowest[0].item(),
                          "allreduce_share": figures[1].item()}))
    dist.destroy_process_group()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.distributed")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--output-dir", default=HERE)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.steps, args.warmup)
    rows = []
    load_before = os.getloadavg()[0]
    for n in args.ranks:
        out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "-n", str(n),
                              os.path.abspath(__file__), "--worker", "--steps",
                              str(args.steps), "--warmup", str(args.warmup)],
                             env=dict(os.environ, OMP_NUM_THREADS="1",
                                      PYTHONPATH=os.pathsep.join(
                                          [os.path.dirname(HERE)]
                                          + [p for p in [os.environ.get("PYTHONPATH")] if p])),
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    base = rows[0]["samples_per_s"] if rows[0]["ranks"] == 1 else None
    lines = ["# Data-parallel training over MPI", "",
             f"Digits CNN (examples/distributed_digits.py's Net), batch {BATCH} per rank, SGD, "
             "1 thread per rank, weak scaling. Command: `python -m bench.distributed "
             f"--ranks {' '.join(map(str, args.ranks))} --steps {args.steps}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} "
             f"logical CPUs; 1-minute load average {load_before:.2f} before the run, "
             f"{os.getloadavg()[0]:.2f} after (other processes share the cores).", "",
             "| ranks | samples/s | speed-up over 1 rank | all_reduce share of the step |",
             "|---:|---:|---:|---:|"]
    for row in rows:
        speedup = f"{row['samples_per_s'] / base:.2f}×" if base else "—"
        lines.append(f"| {row['ranks']} | {row['samples_per_s']:.0f} | {speedup} | "
                     f"{100 * row['allreduce_share']:.1f}% |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.output_dir, "RESULTS-distributed.md"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
