"""Checks the NumPy CNNs of numpy_models.py against PyTorch on the same weights and data.

    python bench/check_numpy_models.py

Runs a few training steps of each model in both and prints the largest loss difference and
the largest weight difference afterwards; exits 1 if they disagree beyond float32 rounding.
Net runs without dropout (PyTorch's random masks cannot be reproduced in NumPy): PyTorch's
Net in eval mode, whose only effect on Net is to turn both dropouts off.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])  # import the bench package
from bench.models.cnn import keras_cnn_torch_style, make_net_class  # noqa: E402
from bench.numpy_models import NumpyKerasCnn, NumpyNet  # noqa: E402

STEPS, LOSS_TOLERANCE, WEIGHT_TOLERANCE = 5, 1e-5, 1e-5


def _compare(name, numpy_model, torch_model, torch_params, to_torch, optimizer, loss_fn, x, y,
             x_torch):
    with torch.no_grad():
        for param, value in zip(torch_params, to_torch(numpy_model.params)):
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    target = torch.from_numpy(y)
    loss_diffs = []
    for _ in range(STEPS):
        numpy_loss = numpy_model.train_step(x, y)
        optimizer.zero_grad()
        loss = loss_fn(torch_model(x_torch), target)
        loss.backward()
        optimizer.step()
        loss_diffs.append(abs(numpy_loss - loss.item()))
    weight_diff = max(float(np.abs(a - b.detach().numpy()).max())
                      for a, b in zip(to_torch(numpy_model.params), torch_params))
    ok = max(loss_diffs) < LOSS_TOLERANCE and weight_diff < WEIGHT_TOLERANCE
    print(f"{name}: {STEPS} steps, last loss {loss.item():.6f}, max |loss diff| "
          f"{max(loss_diffs):.2e}, max |weight diff| {weight_diff:.2e} -> "
          f"{'OK' if ok else 'MISMATCH'}")
    return ok


def check_keras_cnn(rng):
    x = rng.standard_normal((64, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    numpy_model = NumpyKerasCnn(lr=1e-3)
    torch_model = keras_cnn_torch_style(torch)

    def to_torch(params):  # Dense columns: Keras' (H, W, C) flatten order -> PyTorch's (C, H, W)
        w1, b1, w2, b2, w3, b3 = params
        return [w1, b1, w2, b2, w3.reshape(10, 5, 5, 64).transpose(0, 3, 1, 2).reshape(10, -1),
                b3]

    params = list(torch_model.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    return _compare("Keras CNN (Adam)", numpy_model, torch_model, params, to_torch, optimizer,
                    torch.nn.CrossEntropyLoss(), x, y,
                    torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))


def check_net(rng):
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    numpy_model = NumpyNet(lr=0.01, momentum=0.5, dropout=0.0)
    torch_model = make_net_class(torch)().eval()
    params = list(torch_model.parameters())
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.5)
    return _compare("Net (SGD momentum, no dropout)", numpy_model, torch_model, params,
                    lambda p: p, optimizer, torch.nn.functional.nll_loss, x, y,
                    torch.from_numpy(x))


def check_dropout_scaling():
    """Net's dropout masks keep about half the units and scale the kept ones by 2."""
    model = NumpyNet(dropout=0.5)
    mask = model._dropout_mask((64, 50))
    values = set(np.unique(mask).tolist())
    ok = values == {0.0, 2.0} and abs(mask.mean() - 1.0) < 0.1
    print(f"Net dropout mask: values {sorted(values)}, mean {mask.mean():.3f} -> "
          f"{'OK' if ok else 'MISMATCH'}")
    return ok


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    results = [check_keras_cnn(rng), check_net(rng), check_dropout_scaling()]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
