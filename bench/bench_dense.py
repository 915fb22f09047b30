"""Dense models, side by side: ember vs plain NumPy vs PyTorch CPU, at 1 and 2 threads.

    python bench/bench_dense.py

Measures training steps/s and inference samples/s of
  xor: 2-3-1, tanh/sigmoid, MSE, SGD lr 0.1, batch 4
  mlp: 784-128-128-10, ReLU, cross-entropy on random data, Adam lr 1e-3, batch 128
The driver (one subprocess per cell, thread settings, timing, report) is harness.py. Writes
bench/results/dense.md, rebuilds bench/RESULTS.md and, if matplotlib is installed, draws
bench/results_dense.png.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

MODELS = {
    "xor": {"label": "XOR 2-3-1, batch 4, SGD", "batch": 4},
    "mlp": {"label": "MLP 784-128-128-10, batch 128, Adam", "batch": 128},
}


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

    return harness.framework_steps(lib, net, loss_fn, optimizer, x, y)


def make_steps(column, model, threads):
    if column == "numpy":
        from numpy_models import NumpyMlp, NumpyXor

        x, y = _data(model)
        net = NumpyXor(lr=0.1) if model == "xor" else NumpyMlp(lr=1e-3)
        return (lambda: net.train_step(x, y)), (lambda: net.predict(x)), np.__version__
    lib = __import__(column)
    lib.set_num_threads(threads)
    train_step, predict = _framework_steps(lib, model)
    return train_step, predict, getattr(lib, "__version__", "")


FAMILY = harness.Family(
    name="dense",
    title="Dense models: ember vs NumPy vs PyTorch CPU",
    script=__file__,
    columns={"ember": "ember", "numpy": "numpy", "torch": "torch"},
    models=MODELS,
    make_steps=make_steps,
)

if __name__ == "__main__":
    harness.main(FAMILY)
