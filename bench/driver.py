"""The driver of ember's benchmark suite: every model of issue 7's table for ember, a plain
NumPy implementation (where one exists) and PyTorch CPU (when installed), at 1 and 2 threads.

    python -m bench            # the full run (see bench/README.md for how long it takes)
    python -m bench --quick    # every figure at reduced windows: a smoke run, under two minutes
    python -m bench --isa avx2 # every library held to AVX2: an AVX2-only machine on this one
    python bench/run.py ...    # the same

It runs every measurement in a fresh worker subprocess (`python -m bench --worker JOB`, see
worker.py) and writes RESULTS.md, results.png (with matplotlib) and results.json into
--output-dir (RESULTS-avx2.md, ... with `--isa avx2`).
"""

import argparse
import datetime
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench import chart, footprint, isa, machine, report, results_file, worker
from bench.models import MODELS
from bench.steps import IMPLEMENTATIONS

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_TIMEOUT_S = 900  # generous: the first `import ember` after a C++ change rebuilds it
SETTINGS = {  # full run / --quick
    "window": (0.3, 0.03), "repeats": (5, 1), "rounds": (2, 1),
    "kernel_window": (0.2, 0.01), "kernel_repeats": (3, 1), "import_repeats": (7, 3),
}
KEEP_MAX = ("train", "train_cpu", "infer", "infer_cpu", "others_cpu")
KEEP_MIN = ("latency", "latency_cpu", "peak_rss_mb")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # a JSON job for worker.run
    parser.add_argument("--quick", action="store_true",
                        help="reduced windows and repeats, one round: a smoke run")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-kernels", dest="kernels", action="store_false",
                        help="skip the GEMM, convolution and LSTM GFLOP/s")
    parser.add_argument("--no-imports", dest="imports", action="store_false",
                        help="skip the import time measurement")
    parser.add_argument("--isa", choices=isa.LEVELS, default="native",
                        help="native (default): every library uses the best instruction set "
                        "of this CPU; avx2: ember, PyTorch and NumPy held to AVX2 through "
                        "environment variables in every worker (results: RESULTS-avx2.md, ...)")
    parser.add_argument("--output-dir", type=Path, default=REPO_ROOT / "bench",
                        help="where RESULTS.md, results.png and results.json go")
    parser.add_argument("--report-from", type=Path, metavar="RESULTS_JSON",
                        help="measure nothing: rewrite RESULTS.md and results.png (or those of "
                        "its --isa level) from the results.json of an earlier run")
    for name, (full, quick) in SETTINGS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(full), default=None,
                            help=f"default {full}, {quick} with --quick")
    args = parser.parse_args(argv)
    args.shared_workers = args.quick
    for name, (full, quick) in SETTINGS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def run_worker(job, threads):
    """Runs `job` in a fresh `python -m bench --worker` at `threads` threads. Returns its
    result with "others_cpu" (the share of the CPUs other processes used meanwhile), or
    {"error": ...} / {"skipped": ...}."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [sys.executable, "-m", "bench", "--worker", json.dumps({**job, "threads": threads})]
    before, start = machine.cpu_seconds(), time.perf_counter()
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {WORKER_TIMEOUT_S} s"}
    seconds = time.perf_counter() - start
    others = machine.foreign_cpu_share(before, machine.cpu_seconds(), seconds)
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "No module named 'torch'" in last_line:
            return {"skipped": "torch is not installed"}
        return {"error": last_line}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "others_cpu": others,
            "worker_seconds": seconds}


def combine(rounds):
    """The best of several rounds of one cell, figure by figure (fastest, smallest; the
    busiest machine share, to be conservative); the first failure if no round succeeded."""
    measured = [r for r in rounds if "train" in r or "gemm" in r]
    if not measured:
        return rounds[0]
    best = dict(measured[0])
    for keep, names in ((max, KEEP_MAX), (min, KEEP_MIN)):
        for name in names:
            values = [r[name] for r in measured if r.get(name) is not None]
            if values:
                best[name] = keep(values)
    return best


def _status(r):
    if "train" in r:
        status = (f"train {r['train']:,.1f} steps/s, infer {r['infer']:,.0f} samples/s, "
                  f"batch-1 {1e6 * r['latency']:,.0f} µs")
    else:
        status = r.get("error") or r.get("skipped") or "done"
    if "worker_seconds" in r:
        others = "—" if r["others_cpu"] is None else f"{100 * r['others_cpu']:.0f}%"
        status += f" ({r['worker_seconds']:.1f} s; other processes used {others} of the CPUs)"
    return status


def model_jobs(models, threads_counts, order, shared_workers):
    """(implementation, threads, models) of each worker of one round: a worker per cell,
    alternating the implementations model by model and thread count by thread count; or with
    `shared_workers`, one per implementation and thread count that measures every model."""
    if shared_workers:
        jobs = [(implementation, threads, [m for m in models if implementation in
                                           m.implementations])
                for threads in threads_counts for implementation in order]
        return [job for job in jobs if job[2]]
    return [(implementation, threads, [model]) for model in models for threads in threads_counts
            for implementation in order if implementation in model.implementations]


def measure_models(args, models, torch_installed):
    rounds = {}
    for round_index in range(args.rounds):
        order = IMPLEMENTATIONS if round_index % 2 == 0 else IMPLEMENTATIONS[::-1]
        for implementation, threads, job_models in model_jobs(models, args.threads, order,
                                                              args.shared_workers):
            if implementation == "torch" and not torch_installed:
                done = {"skipped": "torch is not installed"}
            else:
                done = run_worker({"kind": "models", "implementation": implementation,
                                   "models": [model.key for model in job_models],
                                   "window": args.window, "repeats": args.repeats}, threads)
            for model in job_models:
                result = done if "models" not in done else {
                    **done["models"][model.key], "others_cpu": done["others_cpu"],
                    "worker_seconds": done["worker_seconds"]}
                rounds.setdefault((implementation, model.key, threads), []).append(result)
                print(f"round {round_index + 1}: {model.key}, {threads} thread(s), "
                      f"{implementation}: {_status(result)}", flush=True)
    return {cell: combine(results) for cell, results in rounds.items()}


def measure_kernels(args, torch_installed):
    results = {}
    for threads in args.threads:
        for library in ("numpy", "ember", "torch"):
            if library == "torch" and not torch_installed:
                results[(library, threads)] = {"skipped": "torch is not installed"}
                continue
            results[(library, threads)] = result = run_worker(
                {"kind": "kernels", "library": library, "window": args.kernel_window,
                 "repeats": args.kernel_repeats}, threads)
            print(f"kernels, {threads} thread(s), {library}: {_status(result)}", flush=True)
    return results


def measure_imports(args, torch_installed):
    results = {"import ember": footprint.import_times("ember", args.import_repeats)}
    if results["import ember"].get("editable_rebuild"):
        results["import ember (as installed: editable build check on import)"] = \
            results.pop("import ember")
        results["import ember (without the editable build check)"] = \
            footprint.import_times("ember", args.import_repeats, skip_rebuild=True)
    if torch_installed:
        results["import torch"] = footprint.import_times("torch", args.import_repeats)
    for label, r in results.items():
        print(f"{label}: " + (r.get("error") or f"{r['seconds']:.3f} s"), flush=True)
    return results


def main(argv=None):
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    if args.worker:
        print(json.dumps(worker.run(json.loads(args.worker))))
        return
    args.output_dir.mkdir(parents=True, exist_ok=True)
    if args.report_from:
        write_report(results_file.load(args.report_from), args.output_dir)
        return
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"warning: 1-minute load average {load_before:.2f}: other processes compete for "
              "the cores; wall figures will be low and noisy", file=sys.stderr)
    torch_installed = importlib.util.find_spec("torch") is not None
    models = [MODELS[key] for key in args.models]
    start_cpu, start = machine.cpu_seconds(), time.perf_counter()
    os.environ.update(isa.environment(args.isa))  # every worker and import timing inherits it
    isa_reported = probe_isa(args.isa)
    results = measure_models(args, models, torch_installed)
    kernel_results = measure_kernels(args, torch_installed) if args.kernels else {}
    imports = measure_imports(args, torch_installed) if args.imports else {}
    seconds = time.perf_counter() - start
    run = report.Run(
        models=models, threads=args.threads, results=results, kernels=kernel_results,
        imports=imports, settings={name: getattr(args, name)
                                   for name in (*SETTINGS, "shared_workers")},
        command=shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        seconds=seconds, cpu=machine.cpu_description(), system=machine.system_description(),
        load=(load_before, os.getloadavg()[0]),
        others_cpu=machine.foreign_cpu_share(start_cpu, machine.cpu_seconds(), seconds),
        isa=args.isa, isa_environment={name: os.environ[name] for name in isa.VARIABLES
                                       if name in os.environ},
        isa_reported=isa_reported)
    results_path = args.output_dir / isa.file_name("results.json", args.isa)
    results_file.save(run, results_path)
    print(f"measured in {seconds:.0f} s; wrote {results_path}")
    write_report(run, args.output_dir)


def probe_isa(level):
    """What each library runs with under `level` (isa.probe in a worker); exits if ember
    cannot load that level, since none of its figures could be measured."""
    reported = run_worker({"kind": "isa"}, 1)
    for what, variable, shown, followed in isa.checks(level, reported):
        print(f"instruction set of {what}: {shown}"
              + {True: " (restricted)", False: f" ({variable} ignored)", None: ""}[followed],
              flush=True)
    ember_error = reported.get("ember", {}).get("error")
    if level != "native" and ember_error:
        sys.exit(f"ember cannot run at --isa {level}: {ember_error}")
    return {name: reported[name] for name in ("numpy", "ember", "torch", "error")
            if name in reported}


def write_report(run, output_dir):
    names = [isa.file_name(name, run.isa) for name in ("RESULTS.md", "results.png")]
    (output_dir / names[0]).write_text(report.markdown(run))
    written = names[:1]
    if chart.write_chart(run, output_dir / names[1]):
        written.append(names[1])
    print(f"wrote {', '.join(str(output_dir / name) for name in written)}")
