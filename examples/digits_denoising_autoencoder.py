"""keras-io's "Convolutional autoencoder for image denoising", on the bundled 8x8 digits.

An encoder of Conv2D + MaxPooling2D and a decoder of strided Conv2DTranspose layers learn to
map noisy digits back to clean ones; the script prints the mean squared error of the noisy
test images and of the denoised ones.
"""
import numpy as np

from ember import keras
from ember.datasets import load_digits
from ember.keras import layers

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)

(x_train, _), (x_test, _) = load_digits()
x_train = x_train.reshape(-1, 8, 8, 1).astype("float32") / 16
x_test = x_test.reshape(-1, 8, 8, 1).astype("float32") / 16


def noise(images):
    noisy = images + 0.4 * rng.normal(size=images.shape).astype("float32")
    return np.clip(noisy, 0.0, 1.0)


noisy_train, noisy_test = noise(x_train), noise(x_test)

autoencoder = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    # Encoder
    layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
    layers.MaxPooling2D((2, 2), padding="same"),
    layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
    layers.MaxPooling2D((2, 2), padding="same"),
    # Decoder
    layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same"),
    layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same"),
    layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same"),
])
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()
autoencoder.fit(noisy_train, x_train, epochs=20, batch_size=64, shuffle=True,
                validation_data=(noisy_test, x_test), verbose=2)

denoised = autoencoder.predict(noisy_test, verbose=0)
print(f"Noisy MSE: {float(((noisy_test - x_test) ** 2).mean()):.4f}")
print(f"Denoised MSE: {float(((denoised - x_test) ** 2).mean()):.4f}")
