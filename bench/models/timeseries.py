"""keras-io's "Timeseries classification from scratch" CNN (FordA: 500 samples of one signal,
2 classes), batch 32, float32, random data of that shape (nothing is downloaded):

timeseries_cnn: 3 x [Conv1D(64, 3, padding="same") - BatchNormalization - ReLU] -
                GlobalAveragePooling1D - Dense(2, softmax), sparse categorical cross-entropy,
                Adam lr 1e-3; run in the Keras face as the example writes it (`from ember
                import keras`, channels_last, `train_on_batch` / `predict_on_batch`) and in the
                torch face (the same model as NCL `nn.Sequential` code: Conv1d,
                BatchNorm1d with Keras' eps and momentum, ReLU, AdaptiveAvgPool1d, Flatten,
                Linear, cross-entropy on logits), which torch runs too. No NumPy model and no
                target in issue 7: the issue asks that its Keras face be as fast as its torch
                face.
"""

import importlib

import numpy as np

from bench.steps import (Model, Targets, framework, framework_implementations, framework_steps,
                         keras_steps)

BATCH, LENGTH, FILTERS, CLASSES, BLOCKS = 32, 500, 64, 2, 3


def _data(channels_last):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, LENGTH, 1)).astype(np.float32)
    if not channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    return x, rng.integers(0, CLASSES, BATCH).astype(np.int64)


def _keras_face(threads):
    """The example's model in ember's Keras face, as a Keras user writes it."""
    ember = framework("ember", threads)
    keras = importlib.import_module("ember.keras")
    layers = keras.layers
    blocks = [layer for _ in range(BLOCKS) for layer in (
        layers.Conv1D(filters=FILTERS, kernel_size=3, padding="same"),
        layers.BatchNormalization(),
        layers.ReLU())]
    model = keras.Sequential([keras.Input(shape=(LENGTH, 1)), *blocks,
                              layers.GlobalAveragePooling1D(),
                              layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return keras_steps(ember, model, *_data(channels_last=True))


def _torch_face(lib):
    """The same model as PyTorch-face code (NCL), identical for ember and torch."""
    nn = lib.nn
    layers, channels = [], 1
    for _ in range(BLOCKS):
        layers += [nn.Conv1d(channels, FILTERS, 3, padding=1),
                   nn.BatchNorm1d(FILTERS, eps=1e-3, momentum=0.01), nn.ReLU()]
        channels = FILTERS
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                        nn.Linear(FILTERS, CLASSES))
    return framework_steps(lib, net, nn.CrossEntropyLoss(),
                           lib.optim.Adam(net.parameters(), lr=1e-3), *_data(channels_last=False))


MODELS = (
    Model("timeseries_cnn", "Time-series CNN (keras-io FordA), batch 32, Adam",
          "Time-series CNN", BATCH, Targets(),
          {"ember_keras": _keras_face, **framework_implementations(_torch_face)}),
)
