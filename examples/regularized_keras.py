"""L1/L2 weight regularization in Keras on the bundled 8x8 digits.

Trains the same MLP twice from the same initial weights, without and with penalties
(``kernel_regularizer=keras.regularizers.L1L2(l1=1e-5, l2=1e-3)`` on every hidden layer, and a
small L2 activity penalty), and compares weight norms, the share of near-zero weights and the
validation/test accuracy. The penalties are in ``model.losses``; ``fit`` adds them to the loss
it minimizes and reports (as Keras does).

    python examples/regularized_keras.py [--quick] [--epochs 40]
"""
import argparse

import numpy as np

from ember import keras
from ember.datasets import load_digits
from ember.keras import layers, regularizers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--quick", action="store_true", help="a short run for CI (12 epochs)")
args = parser.parse_args()
epochs = 12 if args.quick else args.epochs

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = load_digits()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16
# A small training set, so the unregularized network can overfit it.
x_train, y_train = x_train[:500], y_train[:500]
print(f"{len(x_train)} training and {len(x_test)} test images")


def make_model(regularized):
    options = {}
    if regularized:
        options = {"kernel_regularizer": regularizers.L1L2(l1=1e-5, l2=1e-3),
                   "activity_regularizer": regularizers.L2(1e-5)}
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(256, activation="relu", **options),
        layers.Dense(256, activation="relu", **options),
        layers.Dense(10, activation="softmax"),
    ], name="regularized" if regularized else "plain")


plain, regularized = make_model(False), make_model(True)
regularized.set_weights(plain.get_weights())  # the same starting point
results = {}
for model in (plain, regularized):
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2,
                        verbose=0)
    kernels = [layer.get_weights()[0] for layer in model.layers[:2]]
    penalty = float(sum(float(v) for v in model.losses)) if model.losses else 0.0
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    results[model.name] = {
        "norm": float(np.sqrt(sum((k.astype(np.float64) ** 2).sum() for k in kernels))),
        "small": float(np.mean(np.concatenate([np.abs(k).ravel() for k in kernels]) < 1e-3)),
        "val_accuracy": history.history["val_accuracy"][-1],
        "train_loss": history.history["loss"][-1],
        "penalty": penalty, "test_accuracy": test_accuracy}

print(f"{'model':<12}{'kernel norm':>12}{'|w|<1e-3':>10}{'penalty':>9}{'val acc':>9}"
      f"{'test acc':>10}")
for name, r in results.items():
    print(f"{name:<12}{r['norm']:>12.3f}{r['small']:>10.1%}{r['penalty']:>9.4f}"
          f"{r['val_accuracy']:>9.4f}{r['test_accuracy']:>10.4f}")
for name, r in results.items():
    print(f"{name}: kernel norm {r['norm']:.4f}, test accuracy {r['test_accuracy']:.4f}")
