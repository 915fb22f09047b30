"""The MNIST-1D recipes of greydanus/mnist1d (input length 40, 10 classes, Adam lr 1e-2,
batch 100), on random data of that shape (nothing is downloaded):

mnist1d_cnn: Conv1d(1,25,5,stride 2,pad 1)-ReLU-Conv1d(25,25,3,2,1)-ReLU-Conv1d(25,25,3,2,1)-
             ReLU-Linear(125,10) on the (N, 40) signal viewed as (N, 1, 40);
mnist1d_gru: the repository's GRU classifier: a bidirectional GRU of hidden size 6 over the 40
             samples as a (N, 40, 1) batch_first sequence, zero initial state, every step's
             output (40 x 2 x 6 = 480 features) into Linear(480, 10).
Cross-entropy; PyTorch-face code run by ember and by torch, and the NumPy models
NumpyMnist1dCnn (numpy_models.py) and NumpyMnist1dGru (numpy_rnn_models.py).
"""

import numpy as np

from bench.numpy_models import NumpyMnist1dCnn
from bench.numpy_rnn_models import NumpyMnist1dGru
from bench.steps import Model, Targets, framework_implementations, framework_steps, numpy_steps

LENGTH, CLASSES, BATCH, CHANNELS, GRU_HIDDEN = 40, 10, 100, 25, 6


def make_mnist1d_cnn(lib):
    nn = lib.nn

    class ConvClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(1, CHANNELS, 5, stride=2, padding=1)
            self.conv2 = nn.Conv1d(CHANNELS, CHANNELS, 3, stride=2, padding=1)
            self.conv3 = nn.Conv1d(CHANNELS, CHANNELS, 3, stride=2, padding=1)
            self.linear = nn.Linear(CHANNELS * 5, CLASSES)  # 40 -> 19 -> 10 -> 5 positions

        def forward(self, x):
            h = x.view(-1, 1, x.shape[-1])
            h = self.conv3(self.conv2(self.conv1(h).relu()).relu()).relu()
            return self.linear(h.view(h.shape[0], -1))

    return ConvClassifier()


def make_mnist1d_gru(lib):
    nn = lib.nn

    class GruClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, GRU_HIDDEN, batch_first=True, bidirectional=True)
            self.linear = nn.Linear(LENGTH * 2 * GRU_HIDDEN, CLASSES)

        def forward(self, x):
            output, _ = self.gru(x.view(x.shape[0], x.shape[1], 1))
            return self.linear(output.reshape(output.shape[0], -1))

    return GruClassifier()


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((BATCH, LENGTH)).astype(np.float32),
            rng.integers(0, CLASSES, BATCH).astype(np.int64))


def _implementations(make_net, numpy_class):
    def make_steps(lib):
        net = make_net(lib)
        return framework_steps(lib, net, lib.nn.CrossEntropyLoss(),
                               lib.optim.Adam(net.parameters(), lr=1e-2), *_data())

    def numpy_version(threads):
        return numpy_steps(numpy_class(lr=1e-2), *_data())

    return {**framework_implementations(make_steps), "numpy": numpy_version}


MODELS = (
    Model("mnist1d_cnn", "MNIST-1D CNN, batch 100, Adam", "MNIST-1D CNN", BATCH,
          Targets(train=2),
          _implementations(make_mnist1d_cnn, NumpyMnist1dCnn)),
    Model("mnist1d_gru", "MNIST-1D GRU (bidirectional, 6), batch 100, Adam", "MNIST-1D GRU",
          BATCH,
          Targets(train=1.3), _implementations(make_mnist1d_gru, NumpyMnist1dGru)),
)
