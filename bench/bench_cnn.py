"""Convolutional networks, side by side: ember vs plain NumPy vs PyTorch CPU, at 1 and 2 threads.

    python bench/bench_cnn.py

Measures training steps/s and inference samples/s (batch 64, float32, random MNIST-shaped
data, 10 classes) of
  keras_cnn: Conv2D(32,3,relu) - MaxPooling2D(2) - Conv2D(64,3,relu) - MaxPooling2D(2) -
             Flatten - Dense(10,softmax), sparse categorical cross-entropy, Adam
  net:       PyTorch's MNIST example Net (conv1/conv2/Dropout2d/fc1/fc2, log_softmax),
             NLL loss, SGD lr 0.01 momentum 0.5
then the GFLOP/s of every convolution layer's kernels (ember `_core.conv2d_forward` and
`_core.conv2d_backward` against torch's on the same shapes) and of a large NumPy float32
matmul, the practical ceiling. The driver is harness.py. Writes bench/results/cnn.md,
rebuilds bench/RESULTS.md and, if matplotlib is installed, draws bench/results_cnn.png.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

BATCH = 64
MODELS = {
    "keras_cnn": {"label": "Keras CNN, batch 64, Adam", "batch": BATCH},
    "net": {"label": "PyTorch MNIST Net, batch 64, SGD", "batch": BATCH},
}
COLUMNS = {"ember": "ember", "torch_face": "ember (torch face)", "numpy": "numpy",
           "torch": "torch"}
# The brief's nominal per-core float32 peak: 2.45 GHz x 32 FLOP/cycle (2 AVX2 FMA units x
# 8 lanes x 2 FLOP). The VM's CPUID hides the real core (QEMU's generic "AMD EPYC"), so the
# report also gives the measured NumPy float32 matmul rate as the practical ceiling.
NOMINAL_GHZ, FLOP_PER_CYCLE = 2.45, 32
NOMINAL_PEAK_PER_CORE = NOMINAL_GHZ * FLOP_PER_CYCLE
# The convolution layers of both models at batch 64: (name, C_in, H=W, C_out, kernel).
CONV_LAYERS = (
    ("Keras conv1", 1, 28, 32, 3),
    ("Keras conv2", 32, 13, 64, 3),
    ("Net conv1", 1, 28, 10, 5),
    ("Net conv2", 10, 12, 20, 5),
)


# ---------------------------------------------------------------- the models

def _data(channels_last):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x, rng.integers(0, 10, BATCH).astype(np.int64)


def keras_cnn_torch_style(lib):
    """The Keras CNN written in a PyTorch face (NCHW), for `lib` = ember or torch."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1600, 10))


def make_net_class(torch):
    """PyTorch's MNIST example Net, verbatim, for `torch` = the torch or ember module."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net


def _keras_steps():
    """The Keras face exactly as a user writes it (channels_last input)."""
    import ember
    from ember import keras
    from ember.keras import layers

    ember.manual_seed(0)
    x, y = _data(channels_last=True)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    return (lambda: model.train_on_batch(x, y)), (lambda: model.predict_on_batch(x))


def _torch_face_steps(lib, model):
    """The PyTorch-face code, identical for ember and torch."""
    lib.manual_seed(0)
    x_np, y_np = _data(channels_last=False)
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    if model == "keras_cnn":
        net = keras_cnn_torch_style(lib)
        loss_fn, optimizer = lib.nn.CrossEntropyLoss(), lib.optim.Adam(net.parameters(), lr=1e-3)
    else:
        net = make_net_class(lib)()
        loss_fn = lib.nn.functional.nll_loss
        optimizer = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)

    return harness.framework_steps(lib, net, loss_fn, optimizer, x, y, switch_mode=True)


def make_steps(column, model, threads):
    if column == "numpy":
        from numpy_models import NumpyKerasCnn, NumpyNet

        x, y = _data(channels_last=model == "keras_cnn")
        net = NumpyKerasCnn(lr=1e-3) if model == "keras_cnn" else NumpyNet(lr=0.01, momentum=0.5)
        return (lambda: net.train_step(x, y)), (lambda: net.predict(x)), np.__version__
    if column == "torch_face" and model == "net":
        raise harness.NotApplicable("Net is PyTorch code: its ember column is the torch face")
    lib = __import__("torch" if column == "torch" else "ember")
    lib.set_num_threads(threads)
    if column == "ember" and model == "keras_cnn":
        train_step, predict = _keras_steps()
    else:
        train_step, predict = _torch_face_steps(lib, model)
    return train_step, predict, getattr(lib, "__version__", "")


# ---------------------------------------------------------------- convolution kernels

def _conv_flop(c_in, size, c_out, k):
    """Multiply-adds x 2 of one forward pass at batch 64, stride 1, no padding."""
    out = size - k + 1
    return 2.0 * BATCH * out * out * c_out * c_in * k * k


def _layer_cases():
    """(row name, layout, layer) for every measured kernel shape."""
    for layer in CONV_LAYERS:
        yield f"{layer[0]} NCHW", "NCHW", layer
        if layer[0].startswith("Keras"):
            yield f"{layer[0]} NHWC", "NHWC", layer


def _conv_job(lib_name):
    def job(threads, args):
        rng = np.random.default_rng(0)
        results = {}
        if lib_name == "torch":
            import torch
            torch.set_num_threads(threads)
        else:
            import ember
            from ember import _core
            ember.set_num_threads(threads)
        for row, layout, (_, c_in, size, c_out, k) in _layer_cases():
            out = size - k + 1
            x = rng.standard_normal((BATCH, c_in, size, size)).astype(np.float32)
            w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
            b = rng.standard_normal(c_out).astype(np.float32)
            g = rng.standard_normal((BATCH, c_out, out, out)).astype(np.float32)
            if lib_name == "torch":
                fmt = torch.channels_last if layout == "NHWC" else torch.contiguous_format
                tx, tw, tg = (torch.from_numpy(a).contiguous(memory_format=fmt)
                              for a in (x, w, g))
                tb = torch.from_numpy(b)
                conv = torch.nn.functional.conv2d
                backward = torch.ops.aten.convolution_backward

                def forward_fn():
                    return conv(tx, tw, tb)

                def backward_fn():
                    return backward(tg, tx, tw, [c_out], [1, 1], [0, 0], [1, 1], False, [0, 0],
                                    1, [True, True, True])
            else:
                channels_last = layout == "NHWC"
                if channels_last:
                    x, g = (np.ascontiguousarray(a.transpose(0, 2, 3, 1)) for a in (x, g))
                geometry = ((1, 1), (0, 0, 0, 0), (1, 1), 1, channels_last)

                def forward_fn():
                    return _core.conv2d_forward(x, w, b, *geometry)

                def backward_fn():
                    return _core.conv2d_backward(g, x, w, *geometry, True, True, True)
            flop = _conv_flop(c_in, size, c_out, k)
            results[row] = {
                "forward": harness.rate(forward_fn, args.kernel_window, 3) * flop / 1e9,
                # input and weight gradients each cost one forward's FLOPs; bias is negligible
                "backward": harness.rate(backward_fn, args.kernel_window, 3) * 2 * flop / 1e9,
            }
        return results
    return job


def _matmul_job(threads, args):
    """GFLOP/s of a 2048x2048 NumPy float32 matmul: the practical ceiling of this machine."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2048, 2048)).astype(np.float32) for _ in range(2))
    return {"gflops": harness.rate(lambda: a @ b, args.kernel_window * 2, 3) * 2 * 2048 ** 3 / 1e9,
            "numpy": np.__version__}


def _kernel_report(args, run_job):
    measured = {}
    for threads in args.threads:
        for job in ("matmul", "conv_ember", "conv_torch"):
            measured[(job, threads)] = result = run_job(job, threads)
            print(f"kernels {threads} thread(s) {job}: "
                  f"{result.get('error') or result.get('skipped') or 'done'}", flush=True)

    def gflops(job, threads, row, direction):
        return measured[(job, threads)].get(row, {}).get(direction)

    ceilings = {t: measured[("matmul", t)].get("gflops") for t in args.threads}
    lines = [
        "### Convolution kernels, GFLOP/s",
        "",
        f"Batch {BATCH}, float32, stride 1, no padding. ember: `_core.conv2d_forward` and "
        "`_core.conv2d_backward` (input + weight + bias gradients); torch: `F.conv2d` and "
        "`aten.convolution_backward` (all three gradients), `channels_last` tensors for the "
        "NHWC rows. FLOP = 2 × N × OH × OW × C_out × C_in × kh × kw forward, twice that "
        "backward. Peak: the nominal "
        f"{NOMINAL_GHZ} GHz × {FLOP_PER_CYCLE} FLOP/cycle (AVX2, 2 FMA units × 8 floats × 2) "
        f"= {NOMINAL_PEAK_PER_CORE:.1f} GFLOP/s per core (boost clocks are higher; the VM's "
        "CPUID, QEMU's generic \"AMD EPYC\", hides the real core), and the measured 2048×2048 "
        "NumPy float32 matmul, the practical ceiling: "
        + ", ".join(f"{fmt_g(ceilings[t])} GFLOP/s at {t} thread(s)" for t in args.threads)
        + ". `% peak` is ember's figure as a percentage of nominal / of the matmul ceiling.",
        "",
    ]
    for direction in ("forward", "backward"):
        headers = ["layer", "MFLOP"]
        for t in args.threads:
            headers += [f"ember {t} thr", f"torch {t} thr", f"ember/torch {t} thr",
                        f"% peak {t} thr"]
        lines += [f"#### {direction.capitalize()}", "", "| " + " | ".join(headers) + " |",
                  "|---|" + "---:|" * (len(headers) - 1)]
        for row, _, (_, c_in, size, c_out, k) in _layer_cases():
            flop = _conv_flop(c_in, size, c_out, k) * (1 if direction == "forward" else 2)
            cells = [row, f"{flop / 1e6:,.0f}"]
            for t in args.threads:
                ember_v = gflops("conv_ember", t, row, direction)
                torch_v = gflops("conv_torch", t, row, direction)
                peak = (f"{100 * ember_v / (NOMINAL_PEAK_PER_CORE * t):.0f} / "
                        f"{100 * ember_v / ceilings[t]:.0f}"
                        if ember_v is not None and ceilings[t] else "—")
                cells += [fmt_g(ember_v), fmt_g(torch_v), harness.ratio(ember_v, torch_v), peak]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    problems = [f"- {job}, {t} thread(s): {r.get('error') or r.get('skipped')}"
                for (job, t), r in measured.items() if "error" in r or "skipped" in r]
    if problems:
        lines += ["Kernels not measured:", ""] + problems + [""]
    return lines


def fmt_g(value):
    return f"{value:.1f}" if value is not None else "—"


def _add_arguments(parser):
    parser.add_argument("--kernel-window", type=float, default=0.2,
                        help="seconds per timed window of the kernel GFLOP/s figures")
    parser.add_argument("--no-kernels", dest="kernels", action="store_false",
                        help="skip the convolution kernel GFLOP/s tables")


def _extra_report(args, run_job):
    return _kernel_report(args, run_job) if args.kernels else []


FAMILY = harness.Family(
    name="cnn",
    title="Convolutional networks: ember vs NumPy vs PyTorch CPU",
    script=__file__,
    columns=COLUMNS,
    models=MODELS,
    make_steps=make_steps,
    ratios=(("ember", "torch"), ("ember", "numpy"), ("torch_face", "torch", "torch face/torch")),
    notes=(
        "- Models: batch 64, float32, random MNIST-shaped inputs, 10 classes. **Keras CNN** = "
        "Conv2D(32,3,relu) → MaxPooling2D(2) → Conv2D(64,3,relu) → MaxPooling2D(2) → Flatten → "
        "Dense(10,softmax), Adam, sparse categorical cross-entropy; **Net** = PyTorch's MNIST "
        "example (conv1/conv2/Dropout2d/fc1/fc2, log_softmax), NLL, SGD lr 0.01 momentum 0.5.",
        "- Columns: *ember* is the face each model is written in: for the Keras CNN, "
        "`from ember import keras` with channels_last input, `model.train_on_batch(x, y)` and "
        "`model.predict_on_batch(x)`; for Net, the PyTorch class code run with "
        "`import ember as torch`. *ember (torch face)* is the Keras CNN written as an NCHW "
        "`nn.Sequential` (Conv2d, ReLU, MaxPool2d, Flatten, Linear(1600, 10), CrossEntropyLoss "
        "on logits) and run by ember: the cost of the Keras layer over the engine. *torch* runs "
        "that same NCHW code, or the same Net class. *numpy* is numpy_models.py (im2col + "
        "matmul, checked against PyTorch by check_numpy_models.py). Inference: eval mode, "
        "no_grad.",
    ),
    jobs={"conv_ember": _conv_job("ember"), "conv_torch": _conv_job("torch"),
          "matmul": _matmul_job},
    extra_report=_extra_report,
    add_arguments=_add_arguments,
)

if __name__ == "__main__":
    harness.main(FAMILY)
