"""Dense models, side by side: ember vs plain NumPy vs PyTorch CPU, at 1 and 2 threads.

    python bench/bench_dense.py

Measures training steps/s and inference samples/s of
  xor: 2-3-1, tanh/sigmoid, MSE, SGD lr 0.1, batch 4
  mlp: 784-128-128-10, ReLU, cross-entropy on random data, Adam lr 1e-3, batch 128
Each (implementation, model, threads) runs in its own subprocess with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set (and ember/torch.set_num_threads called), so
no thread pool outlives its setting. Each figure is the median of timed windows after a
warm-up, best of interleaved rounds. Writes bench/RESULTS.md and, if matplotlib is
installed, bench/results_dense.png.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
IMPLS = ("ember", "numpy", "torch")
MODELS = {
    "xor": {"label": "XOR 2-3-1, batch 4, SGD", "batch": 4},
    "mlp": {"label": "MLP 784-128-128-10, batch 128, Adam", "batch": 128},
}


# ---------------------------------------------------------------- worker (one subprocess)

def _data(model):
    """The same float32 inputs and targets for every implementation."""
    if model == "xor":
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
        return x, np.array([[0], [1], [1], [0]], dtype=np.float32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((MODELS["mlp"]["batch"], 784)).astype(np.float32)
    return x, rng.integers(0, 10, MODELS["mlp"]["batch"]).astype(np.int64)


def _framework_steps(lib, model):
    """(train_step, predict) for ember or torch: the PyTorch-face code is identical."""
    nn = lib.nn
    lib.manual_seed(0)
    x_np, y_np = _data(model)
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    if model == "xor":
        net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
        loss_fn, optimizer = nn.MSELoss(), lib.optim.SGD(net.parameters(), lr=0.1)
    else:
        net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                            nn.Linear(128, 10))
        loss_fn, optimizer = nn.CrossEntropyLoss(), lib.optim.Adam(net.parameters(), lr=1e-3)

    def train_step():
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def predict():
        with lib.no_grad():
            return net(x)

    return train_step, predict


def _numpy_steps(model):
    sys.path.insert(0, str(BENCH_DIR))
    from numpy_models import NumpyMlp, NumpyXor

    x, y = _data(model)
    net = NumpyXor(lr=0.1) if model == "xor" else NumpyMlp(lr=1e-3)
    return (lambda: net.train_step(x, y)), (lambda: net.predict(x))


def _rate(fn, window, repeats):
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


def run_worker(impl, model, threads, window, repeats):
    if impl == "numpy":
        train_step, predict = _numpy_steps(model)
        version = np.__version__
    else:
        lib = __import__(impl)
        lib.set_num_threads(threads)
        train_step, predict = _framework_steps(lib, model)
        version = getattr(lib, "__version__", "")
    return {
        "train_steps_per_s": _rate(train_step, window, repeats),
        "infer_samples_per_s": _rate(predict, window, repeats) * MODELS[model]["batch"],
        "version": version,
    }


# ---------------------------------------------------------------- driver

def measure(impl, model, threads, args):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [sys.executable, __file__, "--worker", impl, model, str(threads),
               "--window", str(args.window), "--repeats", str(args.repeats)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if impl == "torch" and "No module named 'torch'" in last_line:
            return {"skipped": "torch not installed"}
        return {"error": last_line}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _best(previous, new):
    if previous is None or "train_steps_per_s" not in previous:
        return new
    if "train_steps_per_s" not in new:
        return previous
    best = dict(previous)
    for key in ("train_steps_per_s", "infer_samples_per_s"):
        best[key] = max(previous[key], new[key])
    return best


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


def _fmt(value):
    return f"{value:,.0f}" if value is not None else "—"


def _ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b is not None else "—"


def write_report(results, args, path):
    def value(impl, model, threads, key):
        return results[(impl, model, threads)].get(key)

    versions = {impl: r["version"] for (impl, _, _), r in results.items() if "version" in r}

    lines = [
        "# Dense benchmarks: ember vs NumPy vs PyTorch CPU",
        "",
        f"- Machine: {machine_description()}",
        f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Command: `{shlex.join(['python', 'bench/bench_dense.py', *args.argv])}`",
        "- Versions: " + ", ".join(f"{impl} {versions.get(impl, 'n/a')}" for impl in IMPLS),
        f"- Method: each cell in its own subprocess with `OMP_NUM_THREADS` (and "
        f"ember/torch `set_num_threads`) set; median of {args.repeats} windows of ~{args.window} s "
        f"after a warm-up window; best of {args.rounds} interleaved round(s). Higher is better; "
        "a ratio > 1 means ember is faster.",
        f"- 1-minute load average before/after the run: {args.load_before:.2f} / "
        f"{args.load_after:.2f}" + (
            " — other processes were competing for the cores: figures are low and noisy, "
            "the 2-thread ones most" if max(args.load_before, args.load_after) > 0.5 else ""),
        "",
    ]
    for key, title in (("train_steps_per_s", "Training steps/s"),
                       ("infer_samples_per_s", "Inference samples/s")):
        lines += [f"## {title}", "",
                  "| model | threads | ember | numpy | torch | ember/torch | ember/numpy |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for model in args.models:
            for threads in args.threads:
                ember_v, numpy_v, torch_v = (value(i, model, threads, key) for i in IMPLS)
                lines.append(f"| {MODELS[model]['label']} | {threads} | {_fmt(ember_v)} | "
                             f"{_fmt(numpy_v)} | {_fmt(torch_v)} | {_ratio(ember_v, torch_v)} | "
                             f"{_ratio(ember_v, numpy_v)} |")
        lines.append("")
    problems = [f"- {impl} {model} {threads} thread(s): {r.get('error') or r.get('skipped')}"
                for (impl, model, threads), r in results.items() if "train_steps_per_s" not in r]
    if problems:
        lines += ["## Not measured", ""] + problems + [""]
    path.write_text("\n".join(lines))


def write_chart(results, args, path):
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, (key, title) in zip(axes, (("train_steps_per_s", "Training steps/s"),
                                         ("infer_samples_per_s", "Inference samples/s"))):
        groups = [(m, t) for m in args.models for t in args.threads]
        width = 0.8 / len(IMPLS)
        for offset, impl in enumerate(IMPLS):
            heights = [results[(impl, m, t)].get(key) or 0 for m, t in groups]
            axis.bar([g + offset * width for g in range(len(groups))], heights, width, label=impl)
        axis.set_xticks([g + width for g in range(len(groups))],
                        [f"{m}\n{t} thr" for m, t in groups])
        axis.set_yscale("log")
        axis.set_title(title + " (log scale, higher is better)")
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=3, metavar=("IMPL", "MODEL", "THREADS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--window", type=float, default=0.3, help="seconds per timed window")
    parser.add_argument("--repeats", type=int, default=5, help="timed windows per figure")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; best kept")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args()
    args.argv = sys.argv[1:]

    if args.worker:
        impl, model, threads = args.worker
        print(json.dumps(run_worker(impl, model, int(threads), args.window, args.repeats)))
        return

    args.load_before = os.getloadavg()[0]
    results = {}
    # Rounds interleave the implementations so that a burst of load from other processes
    # does not fall on one of them only; each cell keeps its best round.
    for round_index in range(1, args.rounds + 1):
        for model in args.models:
            for threads in args.threads:
                for impl in IMPLS:
                    r = measure(impl, model, threads, args)
                    results[(impl, model, threads)] = _best(results.get((impl, model, threads)), r)
                    shown = (f"train {_fmt(r['train_steps_per_s'])} steps/s, "
                             f"infer {_fmt(r['infer_samples_per_s'])} samples/s"
                             if "train_steps_per_s" in r else r.get("error") or r.get("skipped"))
                    print(f"round {round_index}: {model:4s} {threads} thread(s) {impl:6s} "
                          f"{shown}", flush=True)
    args.load_after = os.getloadavg()[0]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_report(results, args, args.output)
    print(f"wrote {args.output}")
    chart = args.output.with_name("results_dense.png")
    if write_chart(results, args, chart):
        print(f"wrote {chart}")


if __name__ == "__main__":
    main()
