"""Multi-task learning with the Keras face: one shared trunk, two heads, two losses.

On the bundled 8x8 digits, a functional keras.Model (keras.Input, a shared trunk, two named
output heads) learns two tasks at once from the same features: which digit it is (10 classes,
sparse categorical cross-entropy) and whether it is even (binary cross-entropy). `compile`
takes a loss, a loss weight and metrics per output, keyed by the names of the model's
outputs (the keys of the `outputs` dict); `fit` takes
the targets as a dict with the same keys and logs each output's loss and metrics
("digit_loss", "even_accuracy", ...). Reaches ~97 % on both tasks.

    python examples/multitask_keras.py [--epochs 30] [--quick]
"""
import argparse

from ember import keras
from ember.keras import layers
from ember.datasets import load_digits


def build_model(units=128):
    """A shared trunk of two Dense layers feeding a digit head and an even/odd head."""
    inputs = keras.Input(shape=(64,), name="pixels")
    x = layers.Dense(units, activation="relu")(inputs)
    x = layers.Dense(units, activation="relu")(x)
    features = layers.Dropout(0.1)(x)
    digit = layers.Dense(10, activation="softmax", name="digit")(features)
    even = layers.Dense(1, activation="sigmoid", name="even")(features)
    return keras.Model(inputs=inputs, outputs={"digit": digit, "even": even}, name="multitask")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="train 8 epochs, for tests")
    args = parser.parse_args()
    epochs = 8 if args.quick else args.epochs
    keras.utils.set_random_seed(0)

    # uint8 images 0..16 of shape (N, 8, 8) -> float32 vectors in [0, 1] of length 64.
    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train = x_train.reshape(-1, 64).astype("float32") / 16
    x_test = x_test.reshape(-1, 64).astype("float32") / 16
    targets = {"digit": y_train, "even": (y_train % 2 == 0).astype("float32")}
    test_targets = {"digit": y_test, "even": (y_test % 2 == 0).astype("float32")}
    print(f"{len(x_train)} training and {len(x_test)} test images")

    model = build_model()
    model.summary()
    model.compile(
        optimizer="adam",
        loss={"digit": "sparse_categorical_crossentropy", "even": "binary_crossentropy"},
        loss_weights={"digit": 1.0, "even": 0.5},
        metrics={"digit": ["accuracy"], "even": ["accuracy"]},
    )
    history = model.fit(x_train, targets, epochs=epochs, batch_size=32, validation_split=0.1,
                        verbose=2)
    print("Logged:", ", ".join(history.history))

    results = model.evaluate(x_test, test_targets, verbose=0, return_dict=True)
    print(f"Test loss: {results['loss']:.4f} (digit {results['digit_loss']:.4f}, "
          f"even {results['even_loss']:.4f})")
    print(f"Test digit accuracy: {results['digit_accuracy']:.4f}")
    print(f"Test even accuracy: {results['even_accuracy']:.4f}")

    predictions = model.predict(x_test[:8], verbose=0)  # a dict, like the model's output
    print("Digits:", predictions["digit"].argmax(axis=1).tolist(), "true:", y_test[:8].tolist())
    print("Even:  ", (predictions["even"][:, 0] > 0.5).tolist())


if __name__ == "__main__":
    main()
