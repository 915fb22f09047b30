"""LSTM and GRU text classifiers (random tokens, batch 64, sequence 80, 2 classes,
cross-entropy on the last step, Adam lr 1e-3): Embedding(10000, 128) -> LSTM or GRU(128, 128,
num_layers=2, batch_first=True) -> Linear(128, 2) on output[:, -1]; PyTorch-face code run by
ember and by torch, and the NumPy models of numpy_rnn_models.py."""

import numpy as np

from bench.numpy_rnn_models import NumpyRnnClassifier
from bench.steps import Model, Targets, framework_implementations, framework_steps, numpy_steps

VOCAB, EMBEDDING, HIDDEN, LAYERS, CLASSES = 10000, 128, 128, 2, 2
BATCH, SEQ = 64, 80


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


def _implementations(mode):
    def make_steps(lib):
        net = make_rnn_classifier(lib, mode)
        return framework_steps(lib, net, lib.nn.CrossEntropyLoss(),
                               lib.optim.Adam(net.parameters(), lr=1e-3), *_data())

    def numpy_version(threads):
        return numpy_steps(NumpyRnnClassifier(mode, lr=1e-3), *_data())

    return {**framework_implementations(make_steps), "numpy": numpy_version}


TARGETS = Targets(train=1.3, infer=1.3, latency=1 / 2)


def _rnn_flop(gates):
    """Forward 2·(gates·H)·(I+H)·B·T per layer (the embedding and the last Linear are
    negligible); a step's backward adds the weight gradients and the gradients of each layer's
    input and state, twice the forward (the embedding is trained, so the first layer's input
    gradient is needed too)."""
    forward = LAYERS * 2 * gates * HIDDEN * (EMBEDDING + HIDDEN) * BATCH * SEQ
    return {"infer": forward, "train": 3 * forward}

MODELS = (
    Model("lstm", "LSTM 2×128, emb 128, seq 80, batch 64, Adam", "LSTM", BATCH, TARGETS,
          _implementations("lstm"), flop=_rnn_flop(4)),
    Model("gru", "GRU 2×128, emb 128, seq 80, batch 64, Adam", "GRU", BATCH, TARGETS,
          _implementations("gru"), flop=_rnn_flop(3)),
)
