"""The Keras CNN and PyTorch's MNIST `Net` (batch 64, float32, random MNIST-shaped data, 10
classes).

keras_cnn: Conv2D(32,3,relu) - MaxPooling2D(2) - Conv2D(64,3,relu) - MaxPooling2D(2) -
           Flatten - Dense(10,softmax), sparse categorical cross-entropy, Adam lr 1e-3; run in
           the Keras face (`from ember import keras`, channels_last, `train_on_batch` /
           `predict_on_batch`) and in the torch face (the same model as an NCHW
           `nn.Sequential`, which torch runs too).
net:       PyTorch's MNIST example Net (conv1/conv2/Dropout2d/fc1/fc2, log_softmax), NLL loss,
           SGD lr 0.01 momentum 0.5.
"""

import importlib

import numpy as np

from bench.numpy_models import NumpyKerasCnn, NumpyNet
from bench.steps import (Model, Targets, framework, framework_implementations, framework_steps,
                         keras_steps, numpy_steps)

BATCH = 64


def _data(channels_last):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x, rng.integers(0, 10, BATCH).astype(np.int64)


def keras_cnn_torch_style(lib):
    """The Keras CNN written in the PyTorch face (NCHW), for `lib` = ember or torch."""
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


def _keras_face(threads):
    """The Keras CNN exactly as a Keras user writes it; inference through predict_on_batch."""
    ember = framework("ember", threads)
    keras = importlib.import_module("ember.keras")
    layers = keras.layers
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
    return keras_steps(ember, model, *_data(channels_last=True))


def _keras_cnn_torch_face(lib):
    net = keras_cnn_torch_style(lib)
    return framework_steps(lib, net, lib.nn.CrossEntropyLoss(),
                           lib.optim.Adam(net.parameters(), lr=1e-3), *_data(channels_last=False))


def _net_steps(lib):
    net = make_net_class(lib)()
    return framework_steps(lib, net, lib.nn.functional.nll_loss,
                           lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.5),
                           *_data(channels_last=False))


def _numpy_keras_cnn(threads):
    return numpy_steps(NumpyKerasCnn(lr=1e-3), *_data(channels_last=True))


def _numpy_net(threads):
    return numpy_steps(NumpyNet(lr=0.01, momentum=0.5), *_data(channels_last=False))


MODELS = (
    Model("net", "PyTorch MNIST Net, batch 64, SGD", "Net", BATCH,
          Targets(train=2, infer=1.5, latency=1 / 3),
          {**framework_implementations(_net_steps), "numpy": _numpy_net}),
    Model("keras_cnn", "Keras CNN, batch 64, Adam", "Keras CNN", BATCH,
          Targets(train=2, infer=1.5, latency=1 / 2),
          {"ember_keras": _keras_face, **framework_implementations(_keras_cnn_torch_face),
           "numpy": _numpy_keras_cnn}),
)
