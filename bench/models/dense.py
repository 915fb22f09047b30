"""XOR 2-3-1 (tanh/sigmoid, MSE, SGD lr 0.1, batch 4) and MLP 784-128-128-10 (ReLU,
cross-entropy on random data, Adam lr 1e-3, batch 128): PyTorch-face code run by ember and by
torch, and the NumPy models of numpy_models.py."""

import numpy as np

from bench.numpy_models import NumpyMlp, NumpyXor
from bench.steps import Model, Targets, framework_implementations, framework_steps, numpy_steps

MLP_BATCH = 128
MLP_LAYERS = ((784, 128), (128, 128), (128, 10))


def _mlp_flop():
    """Forward 2·B·in·out per layer; a step adds each layer's weight gradient and the input
    gradient of every layer but the first (its input is the data)."""
    per_layer = [2 * MLP_BATCH * i * o for i, o in MLP_LAYERS]
    forward = sum(per_layer)
    return {"infer": forward, "train": forward + forward + sum(per_layer[1:])}


def _xor_data():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float32)


def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((MLP_BATCH, 784)).astype(np.float32)
    return x, rng.integers(0, 10, MLP_BATCH).astype(np.int64)


def _xor_steps(lib):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    return framework_steps(lib, net, nn.MSELoss(), lib.optim.SGD(net.parameters(), lr=0.1),
                           *_xor_data())


def _mlp_steps(lib):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    return framework_steps(lib, net, nn.CrossEntropyLoss(),
                           lib.optim.Adam(net.parameters(), lr=1e-3), *_mlp_data())


def _numpy_xor(threads):
    return numpy_steps(NumpyXor(lr=0.1), *_xor_data())


def _numpy_mlp(threads):
    return numpy_steps(NumpyMlp(lr=1e-3), *_mlp_data())


MODELS = (
    Model("xor", "XOR 2-3-1, batch 4, SGD", "XOR", 4, Targets(train=8, infer=2, latency=1 / 3),
          {**framework_implementations(_xor_steps), "numpy": _numpy_xor}),
    Model("mlp", "MLP 784-128-128-10, batch 128, Adam", "MLP", MLP_BATCH,
          Targets(train=2, infer=1.2, latency=1 / 3),
          {**framework_implementations(_mlp_steps), "numpy": _numpy_mlp}, flop=_mlp_flop()),
)
