"""Data-parallel training speed over MPI: samples/s of the digits CNN (examples/
distributed_digits.py's Net, batch 64 per rank, SGD) and of the bench's LSTM classifier
(bench/models/rnn.py: embedding 128, 2x128 LSTM, sequence 80, batch 64 per rank, Adam) on 1, 2
and 4 ranks, each rank one thread (medians of rounds that run every rank count in turn); the
share of the step spent in DistributedDataParallel's gradient averaging; and, on 2 ranks, a
step with and without the all_reduce overlapping backward (blocks of steps alternating between
the two in one run, medians).

    python -m bench.distributed                 # both models; writes bench/RESULTS-distributed.md
    python -m bench.distributed --models lstm --ranks 1 2 --output-dir /tmp

Weak scaling, as Horovod reports it: every rank trains its own batch of 64 per step, so N
ranks process N*64 samples per step. Needs `pip install "ember[mpi]"`; never part of pytest."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH = 64
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {  # name: (what the table calls it, default timed steps, warm-up steps)
    "cnn": ("Digits CNN (examples/distributed_digits.py's Net), SGD", 3000, 200),
    "lstm": ("LSTM classifier (embedding 128, 2x128 LSTM, sequence 80), Adam", 20, 3),
}


def _model_and_step(name, rank):
    """The DDP-wrapped model and a function running one training step on this rank's batch."""
    import numpy as np

    import ember
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel as DDP
    rng = np.random.default_rng(rank)
    if name == "cnn":
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
        from distributed_digits import Net
        model = DDP(Net())
        opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
        x = ember.from_numpy(rng.random((BATCH, 1, 8, 8), dtype=np.float32))
        y = ember.from_numpy(rng.integers(0, 10, BATCH))
        loss_of = F.nll_loss
    else:
        from bench.models.rnn import CLASSES, SEQ, VOCAB, make_rnn_classifier
        model = DDP(make_rnn_classifier(ember, "lstm"))
        opt = ember.optim.Adam(model.parameters(), lr=1e-3)
        x = ember.from_numpy(rng.integers(0, VOCAB, (BATCH, SEQ)))
        y = ember.from_numpy(rng.integers(0, CLASSES, BATCH))
        loss_of = F.cross_entropy

    def step():
        opt.zero_grad()
        loss_of(model(x), y).backward()
        opt.step()
    return model, step


def _time_reduction(reducer):
    """Wraps the reducer's entry points in a stopwatch: the time backward spends starting,
    progressing and waiting for the gradient all_reduce (what the overlap leaves exposed)."""
    spent = [0.0]

    def timed(fn):
        def wrapper(*args):
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper
    for name in ("mark_ready", "start_remaining", "complete"):
        setattr(reducer, name, timed(getattr(reducer, name)))
    return spent


def worker(name, steps, warmup, compare_overlap):
    """One rank: trains and reports (rank 0) the slowest rank's time and the all_reduce share,
    or with compare_overlap the median step time with and without overlap."""
    import ember
    import ember.distributed as dist
    dist.init_process_group("mpi")
    ember.set_num_threads(1)
    model, step = _model_and_step(name, dist.get_rank())
    for _ in range(warmup):
        step()
    dist.barrier()
    if compare_overlap:
        report = _compare_overlap(model, step, steps)
    else:
        spent = _time_reduction(model._reducer)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        elapsed = time.perf_counter() - start
        figures = ember.tensor([elapsed, spent[0] / elapsed], dtype=ember.float64)
        slowest = figures.clone()
        dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
        dist.all_reduce(figures, op=dist.ReduceOp.AVG)
        n = dist.get_world_size()
        report = {"model": name, "ranks": n,
                  "samples_per_s": n * BATCH * steps / slowest[0].item(),
                  "allreduce_share": figures[1].item(), "steps": steps}
    if dist.get_rank() == 0:
        print(json.dumps(report))
    dist.destroy_process_group()


def _compare_overlap(model, step, steps):
    """Blocks of 5 steps alternating overlap on and off (so both see the same machine load);
    each step's time is the slowest rank's."""
    import numpy as np

    import ember
    import ember.distributed as dist
    times = {True: [], False: []}
    block = 5
    for b in range(max(2, 2 * round(steps / (2 * block)))):
        overlap = b % 2 == 0
        model._reducer.overlap = overlap
        for _ in range(block):
            start = time.perf_counter()
            step()
            times[overlap].append(time.perf_counter() - start)
    result = {}
    for overlap, values in times.items():
        t = ember.tensor(values, dtype=ember.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        result["with" if overlap else "without"] = float(np.median(t.numpy()))
    return {"model": "", "overlap": result, "steps_each": len(times[True])}


def _run(n, name, steps, warmup, compare_overlap=False):
    command = [sys.executable, "-m", "ember.distributed.run", "-n", str(n),
               os.path.abspath(__file__), "--worker", "--models", name, "--steps", str(steps),
               "--warmup", str(warmup)] + (["--compare-overlap"] if compare_overlap else [])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [os.path.dirname(HERE)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    row["model"] = name
    return row


def _report(rows, comparisons, args, load_before):
    lines = ["# Data-parallel training over MPI", "",
             f"Batch {BATCH} per rank, 1 thread per rank, weak scaling (N ranks train N×{BATCH} "
             "samples a step). Command: `python -m bench.distributed --models "
             f"{' '.join(args.models)} --ranks {' '.join(map(str, args.ranks))} --rounds "
             f"{args.rounds}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} logical "
             f"CPUs; 1-minute load average {load_before:.2f} before the run, "
             f"{os.getloadavg()[0]:.2f} after (other processes may share the cores).", "",
             "The all_reduce share is the time backward spends in DistributedDataParallel's "
             "gradient averaging (starting, progressing and waiting for the bucket "
             "all_reduces) over the whole step, averaged over ranks.", ""]
    for name in args.models:
        model_rows = [r for r in rows if r["model"] == name]
        if not model_rows:
            continue
        lines += [f"## {MODELS[name][0]}", "",
                  f"{model_rows[0]['steps']} timed steps per run; {args.rounds} rounds, each "
                  "running every rank count once in turn; medians over the rounds, and the "
                  "speed-up of each round against the same round's 1-rank run.", "",
                  "| ranks | samples/s | speed-up over 1 rank | speed-up per round | "
                  "all_reduce share of the step |", "|---:|---:|---:|---|---:|"]
        by_round = {}
        for r in model_rows:
            by_round.setdefault(r["round"], {})[r["ranks"]] = r["samples_per_s"]
        for n in args.ranks:
            mine = [r for r in model_rows if r["ranks"] == n]
            ratios = [rs[n] / rs[1] for rs in by_round.values() if 1 in rs and n in rs]
            median_ratio = f"{statistics.median(ratios):.2f}×" if ratios else "—"
            lines.append(f"| {n} | {statistics.median(r['samples_per_s'] for r in mine):.0f} | "
                         f"{median_ratio} | {', '.join(f'{q:.2f}' for q in ratios)} | "
                         f"{100 * statistics.median(r['allreduce_share'] for r in mine):.1f}% |")
        lines.append("")
    if comparisons:
        lines += ["## Overlapping the all_reduce with backward (2 ranks)", "",
                  "Median step time (the slowest rank's), blocks of 5 steps alternating with "
                  "and without overlap in one run, so both meet the same machine load.", "",
                  "| model | steps each | without overlap | with overlap | with / without |",
                  "|---|---:|---:|---:|---:|"]
        for c in comparisons:
            o = c["overlap"]
            lines.append(f"| {c['model']} | {c['steps_each']} | {1000 * o['without']:.2f} ms | "
                         f"{1000 * o['with']:.2f} ms | {o['with'] / o['without']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.distributed")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["cnn", "lstm"])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--steps", type=int, help="timed steps (default: 3000 cnn, 20 lstm)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default: 200 cnn, 3 lstm)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of every rank count (median)")
    parser.add_argument("--no-overlap-comparison", action="store_true",
                        help="skip the 2-rank comparison of a step with and without overlap")
    parser.add_argument("--output-dir", default=HERE)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compare-overlap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name = args.models[0]
        return worker(name, args.steps, args.warmup, args.compare_overlap)
    rows, comparisons = [], []
    load_before = os.getloadavg()[0]
    for name in args.models:
        _, default_steps, default_warmup = MODELS[name]
        steps = args.steps or default_steps
        warmup = default_warmup if args.warmup is None else args.warmup
        for round_ in range(args.rounds):  # rank counts interleaved: each round meets one load
            for n in args.ranks:
                rows.append(dict(_run(n, name, steps, warmup), round=round_))
                print(json.dumps(rows[-1]), flush=True)
        if not args.no_overlap_comparison:
            comparisons.append(_run(2, name, 2 * steps, warmup, compare_overlap=True))
            print(json.dumps(comparisons[-1]), flush=True)
    text = _report(rows, comparisons, args, load_before)
    os.makedirs(args.output_dir, exist_ok=True)
    print(text)
    with open(os.path.join(args.output_dir, "RESULTS-distributed.md"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
