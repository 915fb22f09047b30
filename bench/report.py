"""RESULTS.md from one run of the suite: the targets, the model tables, memory and import
time, the kernel GFLOP/s, and the machine.

Figures of one thread are judged per CPU-second of the worker process (they stay comparable
when other work shares the machine); figures of more threads by the wall clock.
"""

import dataclasses

from bench import isa, kernels
from bench.steps import EMBER_FACES

# (result key, heading, unit, higher is better)
METRICS = (
    ("train", "Training", "steps/s (samples/s)", True),
    ("infer", "Inference (the training batch, eval mode, no_grad)", "samples/s", True),
    ("latency", "Batch-1 latency (one sample, eval mode, no_grad)", "µs per forward", False),
)
TARGET_NAMES = {"train": "training", "infer": "inference", "latency": "batch-1 latency"}
CONV_LSTM_TARGET = 0.6  # share of the GEMM ceiling for conv and LSTM training at 1 thread
RSS_TARGET, IMPORT_TARGET_S = 1 / 3, 0.15
LOADED_SHARE = 0.1  # share of the CPUs other processes may use before figures get noisy


@dataclasses.dataclass
class Run:
    """Everything one run measured, and how."""
    models: list           # Model objects, in table order
    threads: list
    results: dict          # (implementation, model key, threads) -> combined result dict
    kernels: dict          # (library, threads) -> kernel result dict
    imports: dict          # label -> import_times() dict
    settings: dict         # window, repeats, rounds, kernel_window, ...
    command: str
    date: str
    seconds: float
    cpu: str
    system: str
    load: tuple            # 1-minute load average before, after
    others_cpu: float      # share of the CPUs other processes used during the run
    isa: str = "native"    # the --isa level (runs saved before it existed: native)
    isa_environment: dict = dataclasses.field(default_factory=dict)  # isa.VARIABLES workers saw
    isa_reported: dict = dataclasses.field(default_factory=dict)     # isa.probe() in a worker


# ---------------------------------------------------------------- figures

def rows(models, short=False):
    """(model, ember implementation, row label): one row per ember face of each model."""
    for model in models:
        faces = [name for name in EMBER_FACES if name in model.implementations]
        label = model.short if short else model.label
        for face in faces:
            yield model, face, (f"{label} — {EMBER_FACES[face]}" if len(faces) > 1 else label)


def bases(threads):
    """(threads, basis, name) of every figure basis: 1 thread per CPU-second ("cpu") and by
    the wall clock ("wall"), more threads by the wall clock."""
    for count in threads:
        if count == 1:
            yield 1, "cpu", "1 thread, per CPU-s"
        yield count, "wall", f"{count} thread{'s' if count > 1 else ''}, wall"


def judged_basis(threads):
    return "cpu" if threads == 1 else "wall"


def key(metric, basis):
    """The result key of `metric` on `basis`: "train" (wall) or "train_cpu"."""
    return metric + ("_cpu" if basis == "cpu" else "")


def value(run, implementation, model, threads, key):
    return run.results.get((implementation, model.key, threads), {}).get(key)


def ratio(a, b):
    return a / b if a is not None and b is not None and b > 0 else None


def target_of(model, metric):
    return getattr(model.targets, metric)


def met(metric, measured, target):
    """Whether `measured` meets `target`: at most for latency, at least otherwise."""
    if measured is None or target is None:
        return None
    return measured <= target if metric == "latency" else measured >= target


def mark(verdict):
    return "" if verdict is None else (" met" if verdict else " **missed**")


def judged_ratio(run, model, face, metric, threads):
    """ember / torch for `metric` at `threads` on the judged basis (for latency: ember's time
    over torch's, lower is better)."""
    judged = key(metric, judged_basis(threads))
    return ratio(value(run, face, model, threads, judged),
                 value(run, "torch", model, threads, judged))


# ---------------------------------------------------------------- formatting

def fmt(number, digits=0):
    return "—" if number is None else f"{number:,.{digits}f}"


def fmt_ratio(number):
    return "—" if number is None else f"{number:.2f}×"


def fmt_target(metric, target):
    if target is None:
        return ""
    if metric == "latency":
        return f"≤ 1/{round(1 / target)}" if abs(1 / target - round(1 / target)) < 1e-9 \
            else f"≤ {target:.2f}×"
    return f"≥ {target:g}×"


def fmt_judged(metric, measured, target):
    return fmt_ratio(measured) + mark(met(metric, measured, target))


def fmt_metric(metric, number, batch):
    if number is None:
        return "—"
    if metric == "latency":
        return fmt(number * 1e6, 1 if number < 1e-4 else 0)
    if metric == "train":
        return f"{fmt(number, 1 if number < 100 else 0)} ({fmt(number * batch)})"
    return fmt(number)


def table(headers, body):
    return ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1),
            *("| " + " | ".join(cells) + " |" for cells in body), ""]


# ---------------------------------------------------------------- sections

def loaded_warning(run):
    if run.others_cpu is None or run.others_cpu <= LOADED_SHARE:
        return []
    return [f"**Other processes used {100 * run.others_cpu:.0f}% of the CPUs during this run: "
            "its wall-clock figures, the 2-thread ones most, are low and scattered, and say "
            "little about ember; the 1-thread figures per CPU-second hold up better.**", ""]


def machine_section(run):
    ember_isa = f"**{_first_info(run, 'ember_isa') or 'unknown'}**"
    if _first_info(run, "ember_isa_details"):
        ember_isa += f" ({_first_info(run, 'ember_isa_details')})"
    versions = "; ".join(v for v in (_first_version(run, name) for name in
                                     ("ember", "numpy", "torch")) if v)
    s = run.settings
    return [
        "## Machine and method",
        "",
        f"- CPU: {run.cpu}",
        f"- ember's kernels run with instruction set {ember_isa} (`ember.show_config"
        "(mode=\"dicts\")`; \"unknown\" where the build has no `show_config`)",
        *isa_lines(run),
        f"- Versions: {versions}; {run.system}",
        f"- Threads: {', '.join(map(str, run.threads))}; every figure comes from a fresh "
        "worker process" + (" per implementation and thread count (`--quick`)"
                            if s["shared_workers"] else "")
        + " with `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` "
        "set and `ember.set_num_threads` / `torch.set_num_threads` called",
        f"- Command: `{run.command}` ({run.seconds / 60:.1f} minutes), {run.date}",
        f"- Method: per figure a warm-up window, then the median of {s['repeats']} windows of "
        f"~{s['window']} s (at least one call each), best of {s['rounds']} round(s); the "
        "implementations alternate within each round "
        + ("(thread count by thread count). " if s["shared_workers"] else
           "(model by model and thread count by thread count, the order reversed every other "
           "round). ") +
        "Wall figures use `time.perf_counter()`, per-CPU-second figures `time.process_time()` "
        "of the worker (all its threads). Targets are judged on 1-thread figures per "
        "CPU-second and on 2-thread figures by the wall clock.",
        f"- Machine load: 1-minute load average {run.load[0]:.2f} before, {run.load[1]:.2f} "
        "after (the run itself adds 1–2); other processes used "
        + (f"{100 * run.others_cpu:.0f}%" if run.others_cpu is not None else "—")
        + " of the CPUs during the run. Each row's *others* column is the largest share of "
        "the CPUs other processes used while one of its workers ran: above ~10% the wall "
        "figures, the 2-thread ones most, are low and noisy.",
        "",
    ]


def isa_lines(run):
    """The run's instruction-set restriction and what each library reported it ran with."""
    variables = ", ".join(f"`{name}={value}`" for name, value in run.isa_environment.items())
    if run.isa == "native":
        head = ("- Instruction sets: not restricted (`--isa native`): each library chose for "
                "this CPU" + (f"; the workers inherited {variables}" if variables else ""))
    else:
        head = (f"- Instruction sets: **restricted to {run.isa.upper()}** (`--isa {run.isa}`, an "
                f"{run.isa.upper()}-only machine emulated on this CPU): every worker, the GEMM "
                f"ceiling's included, ran with {variables}")
    if not run.isa_reported:
        return [head + "; what each library ran with was not recorded"]
    lines = [head + ". What each library reported it ran with (a probe worker):"]
    for part, variable, shown, followed in isa.checks(run.isa, run.isa_reported):
        verdict = {True: " — restricted", None: "",
                   False: f" — **ignores `{variable}`: not restricted**"}[followed]
        if followed is None and run.isa != "native" and not shown.startswith("not reported"):
            verdict = (" — names no instruction set, so whether it keeps to the restriction "
                       "cannot be read here (see bench/README.md)")
        lines.append(f"  - {part}: {shown}{verdict}")
    return lines


def _first_info(run, key):
    return next((r[key] for r in run.results.values() if key in r), None)


def _first_version(run, name):
    sources = list(run.results.values()) + list(run.kernels.values())
    return next((r["version"] for r in sources if r.get("version", "").startswith(name)), None)


def targets_section(run):
    headers = ["model"]
    for metric in ("train", "infer", "latency"):
        headers += [f"{TARGET_NAMES[metric]} target",
                    *(f"{t} thr" for t in run.threads)]
    body, verdicts = [], []
    for model, face, label in rows(run.models):
        if not any(target_of(model, metric) for metric in ("train", "infer", "latency")):
            continue  # a model issue 7 sets no target for: its ratios are in the tables below
        cells = [label]
        for metric in ("train", "infer", "latency"):
            target = target_of(model, metric)
            cells.append(fmt_target(metric, target))
            for threads in run.threads:
                measured = judged_ratio(run, model, face, metric, threads)
                cells.append(fmt_judged(metric, measured, target) if target else "")
                if target:
                    verdicts.append(met(metric, measured, target))
        body.append(cells)
    if not body:
        return ["## Targets: ember / PyTorch (issue 7)", "",
                "Issue 7 sets no target for the models of this run.", ""]
    measured = [v for v in verdicts if v is not None]
    return [
        "## Targets: ember / PyTorch (issue 7)",
        "",
        "Ratios of ember to PyTorch at the same thread count: training and inference "
        "speed (higher is better), batch-1 latency as ember's time over PyTorch's (lower is "
        "better). 1 thread per CPU-second, 2 threads by the wall clock. "
        f"**{sum(measured)} of {len(verdicts)} targets met**"
        + (f" ({len(verdicts) - len(measured)} not measured)" if len(measured) < len(verdicts)
           else "") + ".",
        "",
        *table(headers, body),
    ]


def metric_section(run, metric, heading, unit, higher_is_better):
    headers = ["model", "basis", "ember", "numpy", "torch", "ember/torch", "target",
               "ember/numpy", "others"]
    body = []
    for model, face, label in rows(run.models):
        for threads, basis, basis_name in bases(run.threads):
            ember, numpy, torch = (value(run, i, model, threads, key(metric, basis))
                                   for i in (face, "numpy", "torch"))
            to_torch, to_numpy = ratio(ember, torch), ratio(ember, numpy)
            target = target_of(model, metric)
            judged = basis == judged_basis(threads)
            others = [o for o in (value(run, i, model, threads, "others_cpu")
                                  for i in (face, "numpy", "torch")) if o is not None]
            body.append([label, basis_name, *(fmt_metric(metric, v, model.batch)
                                          for v in (ember, numpy, torch)),
                         fmt_judged(metric, to_torch, target if judged else None),
                         fmt_target(metric, target) if judged else "",
                         fmt_ratio(to_numpy),
                         f"{100 * max(others):.0f}%" if others else "—"])
    per_cpu = "CPU-µs" if metric == "latency" else "per CPU-second"
    explanation = ("Ratios are ember's time over the other's: below 1, ember is faster."
                   if not higher_is_better else "A ratio above 1: ember is faster.")
    return [f"## {heading}", "",
            f"Figures in {unit}; the \"1 thread, per CPU-s\" rows count {per_cpu} of the "
            f"worker process. {explanation}", "",
            *table(headers, body)]


def memory_section(run):
    threads = 1 if 1 in run.threads else run.threads[0]
    if run.settings["shared_workers"]:
        rss = ["Peak RSS: not measured, since `--quick` measures every model of an "
               "implementation in one worker process.", ""]
    else:
        rss = [f"Peak RSS (MB, `ru_maxrss`) of a fresh worker process at {threads} thread(s) "
               "after import, model and data construction and the timed training steps; "
               "target: ember ≤ 1/3 of PyTorch's.", ""]
    body = []
    for model, face, label in rows(run.models):
        ember, numpy, torch = (value(run, i, model, threads, "peak_rss_mb")
                               for i in (face, "numpy", "torch"))
        to_torch = ratio(ember, torch)
        body.append([label, fmt(ember), fmt(numpy), fmt(torch),
                     fmt_ratio(to_torch) + mark(None if to_torch is None
                                                else to_torch <= RSS_TARGET)])
    lines = ["## Memory and import time", "", *rss]
    if not run.settings["shared_workers"]:
        lines += table(["model", "ember", "numpy", "torch", "ember/torch (≤ 1/3)"], body)
    import_rows = []
    for label, r in run.imports.items():
        if "error" in r:
            import_rows.append([label, r["error"], ""])
            continue
        verdict = r["seconds"] <= IMPORT_TARGET_S if label.startswith("import ember") else None
        import_rows.append([label, f"{r['seconds']:.3f}" + mark(verdict), fmt(r["rss_mb"])])
    if import_rows:
        lines += [f"Import time: median of {run.settings['import_repeats']} fresh interpreters "
                  "(the time of the `import` statement alone), and the process's peak RSS "
                  "after it. Target: `import ember` ≤ 0.15 s. An editable install built with "
                  "`-Ceditable.rebuild=true` checks the C++ build on every import; the "
                  "installed package does not, hence both figures.", "",
                  *table(["import", "seconds", "peak RSS MB"], import_rows)]
    return lines


GEMM_NAMES = {"numpy": "numpy.matmul", "torch": "torch.mm", "ember": "ember.mm"}


def ceiling(run, threads, basis):
    """(best GEMM GFLOP/s at `threads` on `basis`, which product) or (None, None)."""
    measured = [(run.kernels[(library, threads)]["gemm"][basis], name)
                for library, name in GEMM_NAMES.items()
                if "gemm" in run.kernels.get((library, threads), {})]
    return max(measured) if measured else (None, None)


def _kernel_rate(run, library, threads, basis, kind, name=None):
    """{"forward", "backward"} GFLOP/s of a conv layer (kind "conv") or the LSTM layer."""
    measured = run.kernels.get((library, threads), {}).get(kind)
    if measured is None:
        return None
    measured = measured.get(name) if name else measured
    return None if measured is None else {d: measured[d][basis] for d in ("forward", "backward")}


def _training_rate(rates, forward_flop, backward_flop):
    if rates is None:
        return None
    seconds = forward_flop / rates["forward"] + backward_flop / rates["backward"]
    return (forward_flop + backward_flop) / seconds


def kernel_section(run):
    if not run.kernels:
        return []
    gemm_rows = []
    for threads, basis, basis_name in bases(run.threads):
        cells = [basis_name]
        for library in GEMM_NAMES:
            gemm = run.kernels.get((library, threads), {}).get("gemm")
            cells.append(fmt(gemm[basis], 1) if gemm else "—")
        best, name = ceiling(run, threads, basis)
        cells.append(f"{fmt(best, 1)} ({name})" if best else "—")
        gemm_rows.append(cells)
    lines = [
        "## Kernels: GFLOP/s against the GEMM ceiling", "",
        f"The ceiling is the best of three {kernels.GEMM_SIZE}×{kernels.GEMM_SIZE} float32 "
        "matrix products at the same thread count (GFLOP/s; per CPU-second at 1 thread)"
        + (f", under the run's {run.isa.upper()} restriction" if run.isa != "native" else "")
        + ":", "",
        *table(["basis", *GEMM_NAMES.values(), "ceiling"], gemm_rows),
        "Convolution layers of the benchmarked CNNs (batch as in training, float32) through "
        "`F.conv2d` / `F.conv1d` (the Keras layers' NHWC / NLC data through ember's "
        "`channels_last=True`; torch gets the same memory as `channels_last` tensors, in 1-D, "
        "which has no such format, as a transposed view), and one `nn.LSTM(128, 128, "
        "batch_first=True)` layer at the classifier's shape (batch 64, 80 steps), the same "
        "code for both libraries. Forward: with gradients enabled, as in training; backward: "
        "`out.backward(grad, retain_graph=True)`. FLOP: convolution 2·N·out positions·"
        "C_out·C_in·kernel forward, backward one forward for the weight gradient plus one for "
        "the input gradient except in a first layer (its input is the data); LSTM "
        "2·(4H)·(I+H)·B·T forward, twice that backward. *train* is the forward and backward "
        "FLOP over their summed time; *% ceiling* is ember's train figure against the ceiling "
        "(target at 1 thread: ≥ 60%).", "",
    ]
    for threads, basis, basis_name in bases(run.threads):
        if basis != judged_basis(threads):
            continue
        best, _ = ceiling(run, threads, basis)
        body = []
        items = [(layer.name, "conv", layer.name, layer.forward_flop, layer.backward_flop)
                 for layer in kernels.CONV_LAYERS]
        items.append(("LSTM layer 128→128, batch 64, 80 steps", "lstm", None,
                      kernels.LSTM_FORWARD_FLOP, 2 * kernels.LSTM_FORWARD_FLOP))
        for label, kind, name, forward_flop, backward_flop in items:
            cells = [label, " / ".join(fmt(flop / 1e6, 1 if flop < 1e7 else 0)
                                       for flop in (forward_flop, backward_flop))]
            train = {}
            for library in ("ember", "torch"):
                rates = _kernel_rate(run, library, threads, basis, kind, name)
                train[library] = _training_rate(rates, forward_flop, backward_flop)
                cells += [fmt(rates and rates["forward"], 1), fmt(rates and rates["backward"], 1),
                          fmt(train[library], 1)]
            share = ratio(train["ember"], best)
            verdict = met("train", share, CONV_LSTM_TARGET) if threads == 1 else None
            cells += [("—" if share is None else f"{100 * share:.0f}%") + mark(verdict),
                      fmt_ratio(ratio(train["ember"], train["torch"]))]
            body.append(cells)
        lines += [f"### {basis_name} (ceiling {fmt(best, 1)} GFLOP/s)", "",
                  *table(["layer", "MFLOP fwd / bwd", "ember fwd", "ember bwd", "ember train",
                          "torch fwd", "torch bwd", "torch train", "ember % ceiling",
                          "ember/torch train"], body)]
    return lines


def arithmetic_section(run):
    """For the models whose work is nearly all matrix products (Model.flop): the speed the GEMM
    ceiling allows, the best ember / PyTorch ratio that leaves, and ember's share of it."""
    counted = [model for model in run.models if model.flop]
    if not counted or not run.kernels:
        return []
    body = []
    for threads, basis, basis_name in bases(run.threads):
        if basis != judged_basis(threads):
            continue
        best, _ = ceiling(run, threads, basis)
        if best is None:
            continue
        for model in counted:
            for metric in ("train", "infer"):
                flop = model.flop.get(metric)
                if flop is None:
                    continue
                # Steps/s for training, samples/s for inference, as the tables above.
                bound = best * 1e9 / flop * (1 if metric == "train" else model.batch)
                torch_rate = value(run, "torch", model, threads, key(metric, basis))
                ember_rate = value(run, "ember", model, threads, key(metric, basis))
                allowed = ratio(bound, torch_rate)
                target = target_of(model, metric)
                share = ratio(ember_rate, bound)
                body.append([model.short, TARGET_NAMES[metric], basis_name,
                             fmt(flop / 1e6, 1), fmt(best, 1), fmt(bound, 1 if bound < 100 else 0),
                             fmt(torch_rate, 1 if torch_rate and torch_rate < 100 else 0),
                             fmt_ratio(allowed) + ("" if allowed is None or target is None else
                                                   " (reachable)" if allowed >= target
                                                   else " (**below the target**)"),
                             fmt_target(metric, target),
                             "—" if share is None else f"{100 * share:.0f}%"])
    return ["## What the arithmetic allows", "",
            "Models whose work is nearly all matrix products: their multiply-add FLOP per "
            "training step or per batch forward (bench/models), the speed at which the GEMM "
            "ceiling above would run exactly that arithmetic (nothing else: no activations, "
            "optimizer or framework), PyTorch's measured speed, and so the highest ember / "
            "PyTorch ratio any float32 implementation could reach on this CPU. Where that is "
            "below the target, the target cannot be met by faster code; *ember % bound* is how "
            "close ember is.", "",
            *table(["model", "figure", "basis", "MFLOP", "ceiling GFLOP/s", "bound",
                    "torch", "best ratio allowed", "target", "ember % bound"], body)]


def problems_section(run):
    """One line per (implementation, reason) naming the cells it left empty."""
    cells = {}
    for (implementation, model, threads), r in run.results.items():
        if "train" not in r:
            reason = r.get("error") or r.get("skipped")
            cells.setdefault((implementation, reason), []).append(f"{model} at {threads}")
    for (library, threads), r in run.kernels.items():
        if "gemm" not in r:
            reason = r.get("error") or r.get("skipped")
            cells.setdefault((library, reason), []).append(f"kernels at {threads}")
    if not cells:
        return []
    return ["## Not measured", "",
            *(f"- {implementation}: {reason} ({', '.join(where)} thread(s))"
              for (implementation, reason), where in cells.items()), ""]


def markdown(run):
    restricted = f", restricted to {run.isa.upper()}" if run.isa != "native" else ""
    lines = [
        f"# Benchmark results{restricted}", "",
        "One run of ember's benchmark suite (bench/README.md): the models of issue 7's table "
        "for ember (PyTorch face; the Keras CNN also in the Keras face), a plain NumPy "
        "implementation of the same model where one exists and PyTorch CPU, at the same "
        "thread counts, and keras-io's time-series CNN (in both faces; no target, no NumPy "
        "model). The Keras face's inference and batch-1 latency go through "
        f"`model.predict_on_batch`. Chart: {isa.file_name('results.png', run.isa)}.", "",
        *loaded_warning(run),
        *machine_section(run),
        *targets_section(run),
    ]
    for metric, heading, unit, higher_is_better in METRICS:
        lines += metric_section(run, metric, heading, unit, higher_is_better)
    lines += memory_section(run) + kernel_section(run) + arithmetic_section(run)
    lines += problems_section(run)
    return "\n".join(lines).rstrip() + "\n"
