"""The shared driver of the model benchmarks (bench_dense.py, bench_cnn.py).

A benchmark script describes one model family as a `Family` (its columns, its models, how to
build a training step and a prediction for one column) and calls `main(family)`. The driver
runs each (column, model, threads) cell in its own subprocess (the script itself, re-run with
`--worker`) with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set, so no thread
pool outlives its setting; a figure is the median of timed windows after a warm-up, and the
best of interleaved rounds. It writes the family's section `results/<family>.md`, rebuilds
`RESULTS.md` from every section there, and draws `results_<family>.png` when matplotlib is
installed. A family may add its own subprocess jobs (`--job NAME THREADS`) and report lines.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

BENCH_DIR = Path(__file__).resolve().parent
# Order of the sections in RESULTS.md; a family not listed here comes after, by name.
SECTION_ORDER = ("dense", "cnn")
WORKER_TIMEOUT_S = 900
KEYS = (("train_steps_per_s", "Training steps/s"), ("infer_samples_per_s", "Inference samples/s"))


class NotApplicable(Exception):
    """Raised by Family.make_steps when a column has no version of a model."""


@dataclasses.dataclass
class Family:
    name: str                      # "dense": names results/dense.md and results_dense.png
    title: str                     # section heading
    script: str                    # the family's script, re-run as the worker
    columns: dict                  # column key -> header, in table order
    models: dict                   # model key -> {"label": str, "batch": int}
    # (column, model, threads) -> (train_step, predict, version); raises NotApplicable.
    # Called inside the worker after the thread environment is set.
    make_steps: Callable
    # (numerator column, denominator column[, header]); the header defaults to "num/den".
    ratios: tuple = (("ember", "torch"), ("ember", "numpy"))
    notes: tuple = ()              # extra bullet lines of the report
    jobs: dict = dataclasses.field(default_factory=dict)  # name -> fn(threads, args) -> dict
    # fn(args, run_job) -> markdown lines appended to the section; run_job(name, threads).
    extra_report: Callable = None
    add_arguments: Callable = None  # fn(parser) for family-specific options
    default_window: float = 0.3


# ---------------------------------------------------------------- inside a worker subprocess

def rate(fn, window, repeats):
    """Median calls/s over `repeats` windows of ~`window` s, after a warm-up of one window."""
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < window:  # warm-up, and calibrates calls per window
        fn()
        calls += 1
    calls = max(calls, 1)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(calls / (time.perf_counter() - start))
    return statistics.median(rates)


def framework_steps(lib, net, loss_fn, optimizer, x, y, switch_mode=False):
    """(train_step, predict) of PyTorch-face code, the same lines run by ember and by torch.
    With switch_mode each step sets train or eval mode first (microseconds: for models with
    batch norm or dropout, whose steps alternate)."""
    def train_step():
        if switch_mode:
            net.train()
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def predict():
        if switch_mode:
            net.eval()
        with lib.no_grad():
            return net(x)

    return train_step, predict


def _run_worker(family, column, model, threads, args):
    try:
        train_step, predict, version = family.make_steps(column, model, threads)
    except NotApplicable as reason:
        return {"not_applicable": str(reason)}
    return {
        "train_steps_per_s": rate(train_step, args.window, args.repeats),
        "infer_samples_per_s": rate(predict, args.window, args.repeats)
        * family.models[model]["batch"],
        "version": version,
    }


# ---------------------------------------------------------------- driver

def run_subprocess(family, worker_args, threads, args):
    """Runs the family script with `worker_args` at `threads`; returns its last JSON line."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [sys.executable, family.script, *worker_args,
               "--window", str(args.window), "--repeats", str(args.repeats)]
    try:  # generous: the first `import ember` after a C++ change rebuilds the extension
        result = subprocess.run(command, env=env, capture_output=True, text=True,
                                timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {WORKER_TIMEOUT_S} s"}
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named 'torch'" in last_line:
            return {"skipped": "torch not installed"}
        return {"error": last_line}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _best(previous, new):
    if previous is None or "train_steps_per_s" not in previous:
        return new
    if "train_steps_per_s" not in new:
        return previous
    best = dict(previous)
    for key, _ in KEYS:
        best[key] = max(previous[key], new[key])
    return best


def cpu_seconds():
    """(busy CPU seconds of the whole machine, CPU seconds of this driver and its workers)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    own = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy, sum(r.ru_utime + r.ru_stime for r in own)


def foreign_cpu_share(start, end, seconds):
    """Share of the machine's CPUs that other processes used between two cpu_seconds()."""
    if start is None or end is None or seconds <= 0:
        return None
    foreign = (end[0] - start[0]) - (end[1] - start[1])
    return max(foreign, 0.0) / (seconds * (os.cpu_count() or 1))


def machine_description():
    model_name = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model_name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return (f"{model_name} ({os.cpu_count()} logical CPUs), {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def fmt(value, digits=0):
    return f"{value:,.{digits}f}" if value is not None else "—"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b is not None else "—"


def _ratio_header(entry):
    return entry[2] if len(entry) > 2 else f"{entry[0]}/{entry[1]}"


def _status(r):
    if "train_steps_per_s" in r:
        return (f"train {fmt(r['train_steps_per_s'], 1)} steps/s, "
                f"infer {fmt(r['infer_samples_per_s'])} samples/s")
    return r.get("error") or r.get("skipped") or f"n/a ({r.get('not_applicable')})"


def section_lines(family, results, args, extra_lines):
    def value(column, model, threads, key):
        return results[(column, model, threads)].get(key)

    versions = {column: r["version"] for (column, _, _), r in results.items() if "version" in r}
    loaded = args.load_before > 0.5 or (args.foreign_share or 0) > 0.1
    lines = [
        f"## {family.title}",
        "",
        f"- Machine: {machine_description()}",
        f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Command: `{shlex.join(['python', 'bench/' + Path(family.script).name, *args.argv])}`",
        "- Versions: " + ", ".join(f"{family.columns[c]} {versions.get(c, 'n/a')}"
                                   for c in family.columns),
        f"- Method: each cell in its own subprocess with `OMP_NUM_THREADS` (and "
        f"ember/torch `set_num_threads`) set; median of {args.repeats} windows of ~{args.window} s "
        f"after a warm-up window; best of {args.rounds} interleaved round(s). Higher is better; "
        "a ratio > 1 means the numerator is faster.",
        *family.notes,
        f"- 1-minute load average before/after the run: {args.load_before:.2f} / "
        f"{args.load_after:.2f} (the run itself adds 1–2); other processes used "
        + (f"{100 * args.foreign_share:.0f}%" if args.foreign_share is not None else "—")
        + " of the CPUs during the run" + (
            " — other processes were competing for the cores: figures are low and noisy, "
            "the 2-thread ones most" if loaded else ""),
        "",
    ]
    ratio_headers = [_ratio_header(entry) for entry in family.ratios]
    for key, title in KEYS:
        headers = ["model", "threads", *family.columns.values(), *ratio_headers]
        lines += [f"### {title}", "", "| " + " | ".join(headers) + " |",
                  "|---|" + "---:|" * (len(headers) - 1)]
        for model in args.models:
            for threads in args.threads:
                values = {c: value(c, model, threads, key) for c in family.columns}
                digits = 1 if key == "train_steps_per_s" and max(
                    (v for v in values.values() if v is not None), default=0) < 100 else 0
                cells = [fmt(values[c], digits) for c in family.columns]
                cells += [ratio(values[entry[0]], values[entry[1]]) for entry in family.ratios]
                lines.append(f"| {family.models[model]['label']} | {threads} | "
                             + " | ".join(cells) + " |")
        lines.append("")
    problems = [f"- {family.columns[c]}, {model}, {threads} thread(s): {_status(r)}"
                for (c, model, threads), r in results.items()
                if "train_steps_per_s" not in r and "not_applicable" not in r]
    if problems:
        lines += ["### Not measured", ""] + problems + [""]
    return lines + list(extra_lines)


def rebuild_results_index(output_dir):
    """RESULTS.md = every section file under results/, in SECTION_ORDER."""
    sections = sorted((output_dir / "results").glob("*.md"),
                      key=lambda p: (SECTION_ORDER.index(p.stem) if p.stem in SECTION_ORDER
                                     else len(SECTION_ORDER), p.stem))
    text = ["# Benchmark results", "",
            "Generated from `bench/results/*.md`, one section per benchmark script "
            "(see bench/README.md); each script rewrites only its own section.", ""]
    for section in sections:
        text += [section.read_text().rstrip(), ""]
    (output_dir / "RESULTS.md").write_text("\n".join(text))


def write_chart(family, results, args, path):
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, (key, title) in zip(axes, KEYS):
        groups = [(m, t) for m in args.models for t in args.threads]
        width = 0.8 / len(family.columns)
        for offset, (column, header) in enumerate(family.columns.items()):
            heights = [results[(column, m, t)].get(key) or 0 for m, t in groups]
            axis.bar([g + offset * width for g in range(len(groups))], heights, width,
                     label=header)
        axis.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))],
                        [f"{m}\n{t} thr" for m, t in groups])
        axis.set_yscale("log")
        axis.set_title(title + " (log scale, higher is better)")
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main(family):
    parser = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "")
                                     .split("\n")[0])
    parser.add_argument("--worker", nargs=3, metavar=("COLUMN", "MODEL", "THREADS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--job", nargs=2, metavar=("NAME", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", choices=list(family.models),
                        default=list(family.models))
    parser.add_argument("--window", type=float, default=family.default_window,
                        help="seconds per timed window")
    parser.add_argument("--repeats", type=int, default=5, help="timed windows per figure")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; best kept")
    parser.add_argument("--output-dir", type=Path, default=BENCH_DIR,
                        help="where results/<family>.md, RESULTS.md and the chart go")
    if family.add_arguments:
        family.add_arguments(parser)
    args = parser.parse_args()
    args.argv = sys.argv[1:]

    if args.worker:
        column, model, threads = args.worker
        print(json.dumps(_run_worker(family, column, model, int(threads), args)))
        return
    if args.job:
        name, threads = args.job
        print(json.dumps(family.jobs[name](int(threads), args)))
        return

    args.load_before = os.getloadavg()[0]
    if args.load_before > 0.3:
        print(f"warning: 1-minute load average {args.load_before:.2f}: other processes compete "
              "for the cores, so the figures will be low and noisy", file=sys.stderr)
    start_cpu, start_time = cpu_seconds(), time.perf_counter()
    results = {}
    # Rounds interleave the columns so that a burst of load from other processes does not
    # fall on one of them only; each cell keeps its best round.
    for round_index in range(1, args.rounds + 1):
        for model in args.models:
            for threads in args.threads:
                for column in family.columns:
                    if "not_applicable" in results.get((column, model, threads), {}):
                        continue
                    r = run_subprocess(family, ["--worker", column, model, str(threads)],
                                       threads, args)
                    results[(column, model, threads)] = _best(
                        results.get((column, model, threads)), r)
                    print(f"round {round_index}: {model} {threads} thread(s) "
                          f"{family.columns[column]}: {_status(r)}", flush=True)

    def run_job(name, threads):
        return run_subprocess(family, ["--job", name, str(threads)], threads, args)

    extra = family.extra_report(args, run_job) if family.extra_report else []
    args.load_after = os.getloadavg()[0]
    args.foreign_share = foreign_cpu_share(start_cpu, cpu_seconds(),
                                           time.perf_counter() - start_time)
    section = args.output_dir / "results" / f"{family.name}.md"
    section.parent.mkdir(parents=True, exist_ok=True)
    section.write_text("\n".join(section_lines(family, results, args, extra)))
    rebuild_results_index(args.output_dir)
    print(f"wrote {section} and {args.output_dir / 'RESULTS.md'}")
    chart = args.output_dir / f"results_{family.name}.png"
    if write_chart(family, results, args, chart):
        print(f"wrote {chart}")
