"""Recurrent text classifiers, side by side: ember vs plain NumPy vs PyTorch CPU, 1 and 2 threads.

    python bench/bench_rnn.py

Measures training steps/s and inference samples/s (batch 64, float32, random token data) of
  lstm: Embedding(10000, 128) - LSTM(128, 128, num_layers=2, batch_first=True) -
        Linear(128, 2) on the last time step, sequence 80, cross-entropy, Adam lr 1e-3
  gru:  the same with GRU(128, 128, num_layers=2, batch_first=True)
as the same PyTorch-face class run with `import ember as torch` and with torch, and as the
hand-written NumPy model of numpy_rnn_models.py. The driver is harness.py. Writes
bench/results/rnn.md, rebuilds bench/RESULTS.md and, if matplotlib is installed, draws
bench/results_rnn.png.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

VOCAB, EMBEDDING, HIDDEN, LAYERS, CLASSES = 10000, 128, 128, 2, 2
BATCH, SEQ = 64, 80
MODELS = {
    "lstm": {"label": "LSTM 2×128, emb 128, seq 80, batch 64, Adam", "batch": BATCH},
    "gru": {"label": "GRU 2×128, emb 128, seq 80, batch 64, Adam", "batch": BATCH},
}
COLUMNS = {"ember": "ember", "numpy": "numpy", "torch": "torch"}


def make_rnn_classifier(lib, mode, vocab_size=VOCAB):
    """Embedding -> 2-layer LSTM/GRU (batch_first) -> Linear on the last step, for `lib` =
    ember or torch: the PyTorch code a user writes, identical for both."""
    nn = lib.nn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, EMBEDDING)
            rnn = nn.LSTM if mode == "lstm" else nn.GRU
            self.rnn = rnn(EMBEDDING, HIDDEN, num_layers=LAYERS, batch_first=True)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            output, _ = self.rnn(self.embedding(x))
            return self.fc(output[:, -1])

    return Classifier()


def _data():
    rng = np.random.default_rng(0)
    return (rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64),
            rng.integers(0, CLASSES, BATCH).astype(np.int64))


def make_steps(column, model, threads):
    tokens, target = _data()
    if column == "numpy":
        from numpy_rnn_models import NumpyRnnClassifier

        net = NumpyRnnClassifier(model, lr=1e-3)
        return (lambda: net.train_step(tokens, target)), (lambda: net.predict(tokens)), \
            np.__version__
    lib = __import__("torch" if column == "torch" else "ember")
    lib.set_num_threads(threads)
    lib.manual_seed(0)
    net = make_rnn_classifier(lib, model)
    x, y = lib.from_numpy(tokens), lib.from_numpy(target)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.Adam(net.parameters(), lr=1e-3)

    train_step, predict = harness.framework_steps(lib, net, loss_fn, optimizer, x, y)
    return train_step, predict, getattr(lib, "__version__", "")


FAMILY = harness.Family(
    name="rnn",
    title="Recurrent text classifiers: ember vs NumPy vs PyTorch CPU",
    script=__file__,
    columns=COLUMNS,
    models=MODELS,
    make_steps=make_steps,
    notes=("- Models: Embedding(10000, 128) → LSTM or GRU (128 hidden, 2 layers, "
           "batch_first) → Linear(128, 2) on the last step; random tokens, batch 64, "
           "sequence 80, float32, cross-entropy, Adam lr 1e-3. ember and torch run the same "
           "PyTorch-face class; NumPy is numpy_rnn_models.py (checked against PyTorch by "
           "check_numpy_rnn_models.py). Inference is the forward pass under `no_grad`.",),
    default_window=0.6,  # a training step takes 0.2-0.5 s: at least one whole step per window
)

if __name__ == "__main__":
    harness.main(FAMILY)
