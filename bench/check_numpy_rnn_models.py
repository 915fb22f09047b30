"""Checks the NumPy LSTM and GRU classifiers of numpy_rnn_models.py against PyTorch.

    python bench/check_numpy_rnn_models.py

Copies the NumPy model's weights into the PyTorch model of bench/models/rnn.py, runs a few Adam
steps of both on the same random tokens and prints the largest loss difference, the largest
gradient difference of the first step (relative to the largest gradient of that parameter:
Adam's first step only sees the gradient's sign, so the weights alone would not show a
wrongly scaled gradient) and the largest weight difference afterwards; exits 1 if they
disagree beyond float32 rounding. A
reduced size (vocab 500, sequence 20, batch 16) keeps it to a few seconds; the code paths are
the benchmark's.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])  # import the bench package
from bench.models.rnn import make_rnn_classifier  # noqa: E402
from bench.numpy_rnn_models import NumpyRnnClassifier  # noqa: E402

STEPS, LOSS_TOLERANCE, GRAD_TOLERANCE, WEIGHT_TOLERANCE = 5, 1e-5, 1e-4, 1e-5
VOCAB, BATCH, SEQ = 500, 16, 20


def check(mode, rng):
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64)
    target = rng.integers(0, 2, BATCH).astype(np.int64)
    numpy_model = NumpyRnnClassifier(mode, vocab_size=VOCAB, lr=1e-3)
    torch_model = make_rnn_classifier(torch, mode, vocab_size=VOCAB)
    params = list(torch_model.parameters())
    assert [tuple(p.shape) for p in params] == [p.shape for p in numpy_model.params]
    with torch.no_grad():
        for param, value in zip(params, numpy_model.params):
            param.copy_(torch.from_numpy(value))
    optimizer = torch.optim.Adam(params, lr=1e-3)
    x, y = torch.from_numpy(tokens), torch.from_numpy(target)
    numpy_step, numpy_grads = numpy_model.optimizer.step, []

    def recording_step(grads):  # keeps the NumPy gradients of the first step
        if not numpy_grads:
            numpy_grads.extend(g.copy() for g in grads)
        numpy_step(grads)

    numpy_model.optimizer.step = recording_step
    loss_diffs, grad_diff = [], None
    for _ in range(STEPS):
        numpy_loss = numpy_model.train_step(tokens, target)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch_model(x), y)
        loss.backward()
        if grad_diff is None:
            grad_diff = max(float(np.abs(a - p.grad.numpy()).max() / np.abs(a).max())
                            for a, p in zip(numpy_grads, params))
        optimizer.step()
        loss_diffs.append(abs(numpy_loss - loss.item()))
    weight_diff = max(float(np.abs(a - b.detach().numpy()).max())
                      for a, b in zip(numpy_model.params, params))
    ok = (max(loss_diffs) < LOSS_TOLERANCE and grad_diff < GRAD_TOLERANCE
          and weight_diff < WEIGHT_TOLERANCE)
    print(f"{mode.upper()} classifier (Adam): {STEPS} steps, last loss {loss.item():.6f}, "
          f"max |loss diff| {max(loss_diffs):.2e}, max relative |grad diff| {grad_diff:.2e}, "
          f"max |weight diff| {weight_diff:.2e} -> "
          f"{'OK' if ok else 'MISMATCH'}")
    return ok


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    results = [check(mode, rng) for mode in ("lstm", "gru")]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
