"""Checks the NumPy recurrent models of numpy_rnn_models.py against PyTorch.

    python bench/check_numpy_rnn_models.py

Copies each NumPy model's weights into the PyTorch model of bench/models/, runs a few Adam
steps of both on the same random data and compares losses, first-step gradients and final
weights (parity.py); exits 1 if they disagree beyond float32 rounding. The LSTM and GRU text
classifiers run at a reduced size (vocab 500, sequence 20, batch 16) to take a few seconds;
the code paths are the benchmark's. The MNIST-1D GRU runs at the benchmark's size.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])  # import the bench package
from bench.models.mnist1d import make_mnist1d_gru  # noqa: E402
from bench.models.rnn import make_rnn_classifier  # noqa: E402
from bench.numpy_rnn_models import NumpyMnist1dGru, NumpyRnnClassifier  # noqa: E402
from bench.parity import compare  # noqa: E402

VOCAB, BATCH, SEQ = 500, 16, 20


def check_classifier(mode, rng):
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64)
    target = rng.integers(0, 2, BATCH).astype(np.int64)
    torch_model = make_rnn_classifier(torch, mode, vocab_size=VOCAB)
    return compare(f"{mode.upper()} classifier (Adam)",
                   NumpyRnnClassifier(mode, vocab_size=VOCAB, lr=1e-3), torch_model,
                   torch.optim.Adam(torch_model.parameters(), lr=1e-3),
                   torch.nn.functional.cross_entropy, tokens, target)


def check_mnist1d_gru(rng):
    x = rng.standard_normal((100, 40)).astype(np.float32)
    target = rng.integers(0, 10, 100).astype(np.int64)
    torch_model = make_mnist1d_gru(torch)
    return compare("MNIST-1D GRU (Adam)", NumpyMnist1dGru(lr=1e-2), torch_model,
                   torch.optim.Adam(torch_model.parameters(), lr=1e-2),
                   torch.nn.functional.cross_entropy, x, target)


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    results = [check_classifier(mode, rng) for mode in ("lstm", "gru")]
    results.append(check_mnist1d_gru(rng))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
