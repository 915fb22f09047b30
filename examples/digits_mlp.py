"""Classify the bundled 8x8 handwritten digits with a Keras-style MLP (~97 % test accuracy)."""

from ember import keras
from ember.keras import layers
from ember.datasets import load_digits

keras.utils.set_random_seed(0)

# uint8 images 0..16 of shape (N, 8, 8) -> float32 vectors in [0, 1] of length 64.
(x_train, y_train), (x_test, y_test) = load_digits()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16
print(f"{len(x_train)} training and {len(x_test)} test images")

model = keras.Sequential([
    keras.Input(shape=(64,)),
    layers.Dense(128, activation="relu"),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, verbose=2)

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {loss:.4f}")
print(f"Test accuracy: {accuracy:.4f}")
