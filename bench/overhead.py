"""Per-call overhead of small models: ember vs PyTorch CPU, alternating runs.

    python bench/overhead.py [--threads 1] [--cases xor_train net_b1 ...]

Where a whole step takes tens of microseconds the framework's per-call cost is the figure:
training steps of XOR, inference at batch 4 and batch-1 latency (eval, no_grad, one sample)
of XOR, the MLP 784-128-128-10, PyTorch's MNIST `Net` and the Keras CNN (Keras face through
`predict_on_batch` and `model(x, training=False)`, and the same network in the torch face),
plus the Keras face's `train_on_batch` next to the torch face's step on the same model.
Each library runs in its own worker process (OMP_NUM_THREADS and `set_num_threads(threads)`
set; two OpenMP runtimes in one process spin against each other at 2 threads), the workers of
the two alternate for several rounds, and a figure is the median over rounds of the median over
windows of microseconds per call, measured both as process CPU time (`time.process_time`,
steady when other work shares the machine) and as wall time. The ratio is torch/ember: above 1
means ember is faster (for latency, 3 means a third).
Models and data come from bench/models/ (dense.py, cnn.py) so the code is the suite's own.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])  # import the bench package
from bench.models import cnn, dense  # noqa: E402


def _xor_data(lib, batch):
    x, y = dense._xor_data()
    return lib.from_numpy(x[:batch].copy()), lib.from_numpy(y[:batch].copy())


def _xor_net(lib):
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())


def _predict(lib, net, x):
    net.eval()

    def run():
        with lib.no_grad():
            return net(x)
    return run


def xor_train(lib):
    lib.manual_seed(0)
    return dense._xor_steps(lib).train


def xor_infer(lib):
    return _predict(lib, _xor_net(lib), _xor_data(lib, 4)[0])


def xor_b1(lib):
    return _predict(lib, _xor_net(lib), _xor_data(lib, 1)[0])


def mlp_b1(lib):
    nn = lib.nn
    lib.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    x = lib.from_numpy(dense._mlp_data()[0][:1].copy())
    return _predict(lib, net, x)


def net_b1(lib):
    lib.manual_seed(0)
    x = lib.from_numpy(cnn._data(channels_last=False)[0][:1].copy())
    return _predict(lib, cnn.make_net_class(lib)(), x)


def kcnn_b1(lib):
    """The Keras CNN as an NCHW nn.Sequential (ember's torch face, and torch)."""
    lib.manual_seed(0)
    x = lib.from_numpy(cnn._data(channels_last=False)[0][:1].copy())
    return _predict(lib, cnn.keras_cnn_torch_style(lib), x)


def _keras_cnn():
    import ember
    from ember import keras
    from ember.keras import layers

    ember.manual_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy")
    return model


def kcnn_b1_keras_predict(lib):
    """ember: Keras face, predict_on_batch of one channels_last sample; torch: kcnn_b1."""
    if lib.__name__ != "ember":
        return kcnn_b1(lib)
    model = _keras_cnn()
    x = cnn._data(channels_last=True)[0][:1].copy()
    return lambda: model.predict_on_batch(x)


def kcnn_b1_keras_call(lib):
    """ember: Keras face, model(x, training=False) on one sample; torch: kcnn_b1."""
    if lib.__name__ != "ember":
        return kcnn_b1(lib)
    import ember
    model = _keras_cnn()
    x = ember.from_numpy(cnn._data(channels_last=True)[0][:1].copy())

    def run():
        with ember.no_grad():
            return model(x, training=False)
    return run


def _dense_keras_and_torch_face(lib):
    """A small dense classifier (8-16-4, batch 4, Adam): the step is nearly all overhead.
    ember: Keras face train_on_batch; torch: the same network as an nn.Sequential step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    y = rng.integers(0, 4, 4).astype(np.int64)
    if lib.__name__ == "ember":
        from ember import keras
        from ember.keras import layers
        lib.manual_seed(0)
        model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                                  layers.Dense(4)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return lambda: model.train_on_batch(x, y)
    return _torch_face_dense(lib, x, y)


def _torch_face_dense(lib, x, y):
    nn = lib.nn
    lib.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    loss_fn, opt = nn.CrossEntropyLoss(), lib.optim.Adam(net.parameters(), lr=1e-3)
    x, y = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def dense_train_keras_face(lib):
    return _dense_keras_and_torch_face(lib)


def dense_train_torch_face(lib):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    y = rng.integers(0, 4, 4).astype(np.int64)
    return _torch_face_dense(lib, x, y)


CASES = {
    "xor_train": ("XOR training step (batch 4, SGD)", xor_train),
    "xor_infer": ("XOR inference (batch 4)", xor_infer),
    "xor_b1": ("XOR batch-1 latency", xor_b1),
    "mlp_b1": ("MLP 784-128-128-10 batch-1 latency", mlp_b1),
    "net_b1": ("PyTorch MNIST Net batch-1 latency", net_b1),
    "kcnn_b1": ("Keras CNN batch-1 latency, torch face", kcnn_b1),
    "kcnn_b1_keras_predict": ("Keras CNN batch-1, Keras face predict_on_batch", kcnn_b1_keras_predict),
    "kcnn_b1_keras_call": ("Keras CNN batch-1, Keras face model(x, training=False)",
                           kcnn_b1_keras_call),
    "dense_train_torch_face": ("Dense 8-16-4 step (batch 4, Adam), torch face",
                               dense_train_torch_face),
    "dense_train_keras_face": ("Dense 8-16-4 step: ember Keras train_on_batch vs torch face",
                               dense_train_keras_face),
}


def _window(fn, calls):
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        fn()
    return ((time.process_time() - cpu) / calls * 1e6, (time.perf_counter() - wall) / calls * 1e6)


def measure(fn, window, repeats):
    """(CPU µs, wall µs) per call of fn: medians of `repeats` windows after a warm-up one."""
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < window:  # warm-up, and calibrates the calls per window
        fn()
        calls += 1
    samples = [_window(fn, max(calls, 1)) for _ in range(repeats)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def _worker(lib_name, cases, threads, window, repeats):
    """Measures every case for one library; prints one JSON line {case: [cpu, wall]}."""
    lib = __import__(lib_name)
    lib.set_num_threads(threads)
    print(json.dumps({case: measure(CASES[case][1](lib), window, repeats) for case in cases}))


def _run_worker(lib_name, args):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    command = [sys.executable, __file__, "--worker", lib_name, "--threads", str(args.threads),
               "--window", str(args.window), "--repeats", str(args.repeats),
               "--cases", *args.cases]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if lib_name == "torch" and "No module named 'torch'" in last:
            return None
        raise RuntimeError(f"{lib_name} worker failed: {last}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--window", type=float, default=0.2, help="seconds per timed window")
    parser.add_argument("--repeats", type=int, default=5, help="windows per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of workers")
    parser.add_argument("--worker", choices=["ember", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.cases, args.threads, args.window, args.repeats)
        return
    rounds = {"ember": [], "torch": []}
    for _ in range(args.rounds):  # ember and torch alternate, each in a fresh process
        for lib_name in rounds:
            result = _run_worker(lib_name, args)
            if result is not None:
                rounds[lib_name].append(result)
    print(f"threads {args.threads}; microseconds per call: median over {args.rounds} alternating "
          f"rounds of the median of {args.repeats} windows of ~{args.window} s; process CPU "
          "time (wall)")
    print("| case | ember µs | torch µs | torch/ember |")
    print("|---|---:|---:|---:|")
    for case in args.cases:
        e = [statistics.median(r[case][k] for r in rounds["ember"]) for k in (0, 1)]
        t = ([statistics.median(r[case][k] for r in rounds["torch"]) for k in (0, 1)]
             if rounds["torch"] else None)
        cells = [f"{e[0]:.1f} ({e[1]:.1f})",
                 f"{t[0]:.1f} ({t[1]:.1f})" if t else "—",
                 f"{t[0] / e[0]:.2f}× ({t[1] / e[1]:.2f}×)" if t else "—"]
        print(f"| {CASES[case][0]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
