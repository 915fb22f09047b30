"""Train the classic Keras CNN on MNIST from files you already have (nothing is downloaded).

    python examples/mnist_cnn.py --data DIR      # the four IDX files (raw or .gz) in DIR
    python examples/mnist_cnn.py --npz PATH      # Keras' mnist.npz

Without arguments it looks for Keras' cache file, ~/.keras/datasets/mnist.npz.
"""

import argparse

from ember import keras
from ember.datasets import load_mnist
from ember.keras import layers

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", help="folder with the MNIST IDX files")
parser.add_argument("--npz", default="mnist.npz", help="Keras' mnist.npz (default: its cache)")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=64)
args = parser.parse_args()

if args.data:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
else:
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(args.npz)
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")
