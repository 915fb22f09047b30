"""Train the classic Keras CNN on the bundled 8x8 handwritten digits (~98 % test accuracy).

Conv2D -> MaxPooling2D -> Conv2D -> MaxPooling2D -> Flatten -> Dense, channels_last, as a
Keras user writes it. The images are only 8x8, so the convolutions use padding="same".
"""

from ember import keras
from ember.datasets import load_digits
from ember.keras import layers

keras.utils.set_random_seed(0)

# uint8 images 0..16 of shape (N, 8, 8) -> float32 (N, 8, 8, 1) in [0, 1]
(x_train, y_train), (x_test, y_test) = load_digits()
x_train = x_train.reshape(-1, 8, 8, 1).astype("float32") / 16
x_test = x_test.reshape(-1, 8, 8, 1).astype("float32") / 16
print(f"{len(x_train)} training and {len(x_test)} test images")

model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dropout(0.25),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=20, batch_size=32, validation_split=0.1)

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {loss:.4f}")
print(f"Test accuracy: {accuracy:.4f}")
