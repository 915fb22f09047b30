"""keras-io's time-series CNN, side by side: ember's Keras face vs ember's torch face vs PyTorch.

    python bench/bench_timeseries.py

The model of keras-io's "Timeseries classification from scratch" (FordA: 500 samples of one
signal, 2 classes): three blocks of Conv1D(64, 3, padding="same") -> BatchNormalization ->
ReLU, then GlobalAveragePooling1D and Dense(2, softmax); sparse categorical cross-entropy,
Adam, batch 32, float32, random (32, 500, 1) inputs. Measures training steps/s and inference
samples/s of
  ember:      the Keras face as the example writes it (`from ember import keras`,
              channels_last, `train_on_batch` / `predict_on_batch`);
  torch_face: the same model as NCL PyTorch-face code (Conv1d, BatchNorm1d(eps=1e-3,
              momentum=0.01: Keras' defaults), ReLU, AdaptiveAvgPool1d, Linear;
              CrossEntropyLoss on logits) run by ember;
  torch:      that same code run by PyTorch.
The driver is harness.py (each cell in its own subprocess, wall clock). A job then runs the
three columns alternating in one process at 1 thread and reports steps per CPU-second of the
process (`time.process_time()`), which other load on the machine disturbs less. Writes
bench/results/timeseries.md, rebuilds bench/RESULTS.md and draws bench/results_timeseries.png.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

BATCH, LENGTH, FILTERS, CLASSES, BLOCKS = 32, 500, 64, 2, 3
MODELS = {"timeseries_cnn": {"label": "Time-series CNN (keras-io FordA), batch 32, Adam",
                             "batch": BATCH}}
COLUMNS = {"ember": "ember (Keras face)", "torch_face": "ember (torch face)", "torch": "torch"}


def _data(channels_last):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, LENGTH, 1)).astype(np.float32)
    if not channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    return x, rng.integers(0, CLASSES, BATCH).astype(np.int64)


def keras_steps():
    """The example's model in ember's Keras face, as a Keras user writes it."""
    import ember
    from ember import keras
    from ember.keras import layers

    ember.manual_seed(0)
    x, y = _data(channels_last=True)
    blocks = [layer for _ in range(BLOCKS) for layer in (
        layers.Conv1D(filters=FILTERS, kernel_size=3, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU())]
    model = keras.Sequential([keras.Input(shape=(LENGTH, 1)), *blocks,
                              layers.GlobalAveragePooling1D(),
                              layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return (lambda: model.train_on_batch(x, y)), (lambda: model.predict_on_batch(x))


def torch_face_steps(lib):
    """The same model as PyTorch-face code (NCL), identical for ember and torch."""
    nn = lib.nn
    lib.manual_seed(0)
    layers, channels = [], 1
    for _ in range(BLOCKS):
        layers += [nn.Conv1d(channels, FILTERS, 3, padding=1),
                   nn.BatchNorm1d(FILTERS, eps=1e-3, momentum=0.01), nn.ReLU()]
        channels = FILTERS
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                        nn.Linear(FILTERS, CLASSES))
    loss_fn, optimizer = nn.CrossEntropyLoss(), lib.optim.Adam(net.parameters(), lr=1e-3)
    x, y = (lib.from_numpy(a) for a in _data(channels_last=False))
    return harness.framework_steps(lib, net, loss_fn, optimizer, x, y, switch_mode=True)


def make_steps(column, model, threads):
    lib = __import__("torch" if column == "torch" else "ember")
    lib.set_num_threads(threads)
    train_step, predict = keras_steps() if column == "ember" else torch_face_steps(lib)
    return train_step, predict, getattr(lib, "__version__", "")


# ---------------------------------------------------------------- CPU-seconds, alternating

def _cpu_rates(fn, calls, repeats):
    """Per-window (calls per wall second, calls per CPU-second of this process)."""
    out = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        out.append((calls / (time.perf_counter() - wall),
                    calls / max(time.process_time() - cpu, 1e-9)))
    return out


def _alternating_job(threads, args):
    """All three columns in one process, alternating window by window."""
    import ember
    import torch

    ember.set_num_threads(threads)
    torch.set_num_threads(threads)
    steps = {"ember": keras_steps(), "torch_face": torch_face_steps(ember),
             "torch": torch_face_steps(torch)}
    calls = {}
    for column, fns in steps.items():  # warm-up; sets the calls per window from its rate
        for kind, fn in enumerate(fns):
            calls[(column, kind)] = max(1, round(harness.rate(fn, args.window, 1) * args.window))
    windows = {key: [] for key in calls}
    for _ in range(args.repeats):
        for column, fns in steps.items():
            for kind, fn in enumerate(fns):
                windows[(column, kind)] += _cpu_rates(fn, calls[(column, kind)], 1)
    result = {}
    for (column, kind), rates in windows.items():
        scale = 1 if kind == 0 else BATCH
        result[f"{column}_{kind}"] = [statistics.median(r[0] for r in rates) * scale,
                                      statistics.median(r[1] for r in rates) * scale]
    return result


def _alternating_report(args, run_job):
    if 1 not in args.threads or not args.alternating:
        return []
    measured = run_job("alternating", 1)
    print(f"alternating 1 thread: {measured.get('error') or measured.get('skipped') or 'done'}",
          flush=True)
    if "error" in measured or "skipped" in measured:
        return [f"Alternating run not measured: {measured.get('error') or measured['skipped']}",
                ""]
    lines = ["### One process, columns alternating, 1 thread: per CPU-second of the process", "",
             f"Median of {args.repeats} windows per column, the columns taking turns window by "
             "window. Per CPU-second (`time.process_time()`) figures are what each column costs "
             "however busy the machine was; the wall-clock ones are shown beside them.", ""]
    for kind, (title, unit) in enumerate((("Training", "steps"),
                                          ("Inference", "samples"))):
        lines += [f"| {title} | {unit}/CPU-s | {unit}/s (wall) | ratio to torch (CPU) |",
                  "|---|---:|---:|---:|"]
        torch_cpu = measured[f"torch_{kind}"][1]
        for column, header in COLUMNS.items():
            wall, cpu = measured[f"{column}_{kind}"]
            lines.append(f"| {header} | {harness.fmt(cpu, 1)} | {harness.fmt(wall, 1)} | "
                         f"{harness.ratio(cpu, torch_cpu)} |")
        lines.append("")
    return lines


def _add_arguments(parser):
    parser.add_argument("--no-alternating", dest="alternating", action="store_false",
                        help="skip the one-process alternating run at 1 thread")


FAMILY = harness.Family(
    name="timeseries",
    title="Time-series CNN (Conv1D + BatchNormalization): ember's two faces vs PyTorch CPU",
    script=__file__,
    columns=COLUMNS,
    models=MODELS,
    make_steps=make_steps,
    ratios=(("ember", "torch", "Keras face/torch"), ("torch_face", "torch", "torch face/torch"),
            ("ember", "torch_face", "Keras face/torch face")),
    notes=(
        "- Model: keras-io's \"Timeseries classification from scratch\": 3 × [Conv1D(64, 3, "
        "same) → BatchNormalization → ReLU] → GlobalAveragePooling1D → Dense(2, softmax), "
        "batch 32, input (32, 500, 1) float32 random, Adam lr 1e-3, sparse categorical "
        "cross-entropy (on logits in the torch-face code).",
        "- Columns: *ember (Keras face)* is `from ember import keras` with channels_last input, "
        "`train_on_batch` / `predict_on_batch`; *ember (torch face)* is the same model as NCL "
        "`nn.Sequential` code (Conv1d, BatchNorm1d(eps=1e-3, momentum=0.01), ReLU, "
        "AdaptiveAvgPool1d(1), Flatten, Linear) run by ember, and *torch* runs that code. No "
        "NumPy column. Inference: eval mode, no_grad.",
    ),
    jobs={"alternating": _alternating_job},
    extra_report=_alternating_report,
    add_arguments=_add_arguments,
    default_window=0.5,
)

if __name__ == "__main__":
    harness.main(FAMILY)
