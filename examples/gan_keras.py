"""A GAN on the bundled 8x8 digits with the Keras face, written as keras-io's guide
"Customizing what happens in fit() with PyTorch" writes its GAN: a subclassed keras.Model with
compile(d_optimizer, g_optimizer, loss_fn) and its own train_step, which calls zero_grad(),
loss.backward() and optimizer.apply(grads, weights); fit() runs it batch after batch.

The networks follow the DCGAN recipe of dcgan_digits.py: the generator Dense -> Reshape ->
strided Conv2DTranspose blocks with BatchNormalization and ReLU, tanh out; the discriminator
strided Conv2D blocks with LeakyReLU(0.2); Adam(2e-4, beta_1=0.5). At the end a CNN trained
on the real digits (digits_judge.py) labels a batch of 256 generated digits, and a grid of 64
of them is written as a PNG (needs Pillow: pip install "ember[vision]").

    python examples/gan_keras.py            # the full run
    python examples/gan_keras.py --quick    # a short run for CI
"""
import argparse
import time

import numpy as np

import ember as torch
import ember.vision.utils as vutils
from ember import keras
from ember.keras import layers

import digits_judge

parser = argparse.ArgumentParser(description="A Keras GAN on the 8x8 digits")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--outf", default="gan_keras_digits.png", help="where the PNG grid goes")
parser.add_argument("--quick", action="store_true", help="a short run (CI)")
args = parser.parse_args()
if args.quick:
    args.epochs = 4

keras.utils.set_random_seed(1)
latent_dim = 32

# The digits as (N, 8, 8, 1) channels-last images in [-1, 1].
real_images, _ = digits_judge.real_digits("train")
real_images = real_images.transpose(0, 2, 3, 1)

discriminator = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(64, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        # (no BatchNormalization here: each batch mixes real and fake images)
        layers.Conv2D(128, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Flatten(),
        layers.Dense(1),
    ],
    name="discriminator",
)
generator = keras.Sequential(
    [
        keras.Input(shape=(latent_dim,)),
        layers.Dense(2 * 2 * 128, use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Reshape((2, 2, 128)),
        layers.Conv2DTranspose(64, (4, 4), strides=(2, 2), padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Conv2DTranspose(1, (4, 4), strides=(2, 2), padding="same", activation="tanh"),
    ],
    name="generator",
)
discriminator.summary()
generator.summary()


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, (tuple, list)):
            real_images = real_images[0]
        # Sample random points in the latent space and decode them to fake images
        batch_size = real_images.shape[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        generated_images = self.generator(random_latent_vectors)

        # Combine them with real images; label fakes 1 and reals 0
        combined_images = torch.concat([generated_images, real_images], axis=0)
        labels = torch.concat(
            [torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))], axis=0)
        # Add random noise to the labels - important trick!
        labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)

        # Train the discriminator
        self.zero_grad()
        predictions = self.discriminator(combined_images)
        d_loss = self.loss_fn(labels, predictions)
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # Train the generator (without updating the discriminator) with labels that say
        # "all real images"
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = torch.zeros((batch_size, 1))
        self.zero_grad()
        predictions = self.discriminator(self.generator(random_latent_vectors))
        g_loss = self.loss_fn(misleading_labels, predictions)
        g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)

        # Update metrics and return their value.
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
gan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.0002, beta_1=0.5),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.0002, beta_1=0.5),
    loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
)
start = time.perf_counter()
gan.fit(real_images, epochs=args.epochs, batch_size=64, verbose=2)
print(f"Training time: {time.perf_counter() - start:.1f} s")

latent = keras.random.normal(shape=(256, latent_dim), seed=keras.random.SeedGenerator(7))
fake = generator.predict(latent, verbose=0).transpose(0, 3, 1, 2)  # (256, 1, 8, 8) in [-1, 1]
classifier = digits_judge.train_classifier()
digits_judge.report(classifier, fake)
try:
    vutils.save_image(torch.from_numpy(fake[:64]), args.outf, normalize=True)
    print(f"Wrote {args.outf}")
except ImportError as error:  # Pillow is an optional extra
    print(f"No PNG written: {error}")
