"""5-fold cross-validation of a small Keras CNN on the bundled 8x8 digits, with scikit-learn.

keras.wrappers.SKLearnClassifier makes the model a scikit-learn estimator: cross_val_score
fits a new model on four fifths of the training images and scores it (accuracy) on the fifth
left out, five times over. With --grid, GridSearchCV also picks the size of the hidden layer by
3-fold cross-validation, refits the best on all training images and reports the test accuracy.

    pip install "ember[sklearn]"
    python examples/cross_validation_digits.py [--grid] [--quick]
"""
import argparse

import numpy as np
from sklearn.model_selection import GridSearchCV, cross_val_score

from ember import keras
from ember.datasets import load_digits
from ember.keras import layers
from ember.keras.wrappers import SKLearnClassifier


def build_model(X, y, hidden=32):
    """The model for one fit: X is (samples, 64) pixels, y one-hot labels (samples, classes),
    as SKLearnClassifier passes them."""
    model = keras.Sequential([
        keras.Input((X.shape[1],)),
        layers.Reshape((8, 8, 1)),  # scikit-learn hands over flat rows
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(y.shape[1], activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true",
                        help="also search the hidden layer size with GridSearchCV")
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 16
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 16

    epochs = 4 if args.quick else 15
    classifier = SKLearnClassifier(model=build_model, model_kwargs={"hidden": 32},
                                   fit_kwargs={"epochs": epochs, "batch_size": 32,
                                               "verbose": 0})
    scores = cross_val_score(classifier, x_train, y_train, cv=5)
    print(f"5-fold cross-validation on {len(x_train)} training images ({epochs} epochs each):")
    print("Fold accuracies: " + ", ".join(f"{s:.4f}" for s in scores))
    print(f"Mean accuracy: {scores.mean():.4f} (std {scores.std():.4f})")

    if args.grid:
        search = GridSearchCV(classifier, {"model_kwargs": [{"hidden": 16}, {"hidden": 64}]},
                              cv=3)
        search.fit(x_train, y_train)
        for params, mean in zip(search.cv_results_["params"],
                                search.cv_results_["mean_test_score"]):
            print(f"GridSearchCV {params['model_kwargs']}: mean accuracy {mean:.4f}")
        print(f"Best: {search.best_params_['model_kwargs']}, test accuracy of the refitted "
              f"model: {search.score(x_test, y_test):.4f}")


if __name__ == "__main__":
    main()
