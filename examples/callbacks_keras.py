"""A Keras training script with the usual callbacks, interrupted and resumed, on the bundled
8x8 digits.

Batches come from a ``keras.utils.PyDataset``; ``ModelCheckpoint`` keeps the best model under a
templated name, ``CSVLogger`` writes one row per epoch, ``LearningRateScheduler`` decays the rate,
``TensorBoard`` writes event files (when tensorboardX is installed), and ``BackupAndRestore``
lets the second ``fit`` resume where an interrupted first one stopped.

    python examples/callbacks_keras.py [--epochs 8] [--out runs/callbacks_keras]
"""
import argparse
import math
import os
import tempfile

import numpy as np

from ember import keras
from ember.datasets import load_digits
from ember.keras import layers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--out", default=None, help="folder for checkpoints and logs "
                                                "(a temporary one by default)")
args = parser.parse_args()
out = args.out or tempfile.mkdtemp(prefix="callbacks_keras_")
os.makedirs(out, exist_ok=True)

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = load_digits()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16


class Digits(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


class Interrupt(keras.callbacks.Callback):
    """Stands in for a crash or a killed job."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 3:
            raise RuntimeError(f"interrupted at epoch {epoch + 1}")


def make_model():
    model = keras.Sequential([keras.Input(shape=(64,)), layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


callbacks = [
    keras.callbacks.BackupAndRestore(os.path.join(out, "backup")),
    keras.callbacks.ModelCheckpoint(os.path.join(out, "best-{epoch:02d}-{val_loss:.3f}.ember"),
                                    save_best_only=True),
    keras.callbacks.CSVLogger(os.path.join(out, "log.csv"), append=True),
    keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 4 else lr * 0.8),
]
try:
    import tensorboardX  # noqa: F401
    callbacks.append(keras.callbacks.TensorBoard(os.path.join(out, "tensorboard"),
                                                 histogram_freq=1))
except ImportError:
    print('(TensorBoard logs need pip install "ember[tensorboard]")')

train = Digits(x_train, y_train, 32, workers=2)
validation = Digits(x_test, y_test, 128)
try:
    make_model().fit(train, epochs=args.epochs, validation_data=validation, verbose=2,
                     callbacks=callbacks + [Interrupt()])
except RuntimeError as err:
    print(f"First run: {err}")

model = make_model()  # a new process would start here, with fresh weights
history = model.fit(train, epochs=args.epochs, validation_data=validation, verbose=2,
                    callbacks=callbacks)
print(f"Resumed at epoch {history.epoch[0] + 1}")
print("Checkpoints:", ", ".join(sorted(f for f in os.listdir(out) if f.startswith("best"))))
with open(os.path.join(out, "log.csv")) as f:
    print(f"log.csv: {len(f.readlines()) - 1} epochs logged")
best = keras.models.load_model(os.path.join(out, sorted(
    f for f in os.listdir(out) if f.startswith("best"))[-1]))
loss, accuracy = best.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")
