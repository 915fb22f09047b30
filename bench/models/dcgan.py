"""The DCGAN of examples/dcgan_digits.py (8x8 one-channel images), batch 64, random data of
that shape (nothing is downloaded):

dcgan: one training step is both networks' updates, as the example runs them: the
       discriminator (Conv2d(1, 32, 4/2/1) - LeakyReLU(0.2) - Conv2d(32, 64, 4/2/1) -
       BatchNorm2d - LeakyReLU(0.2) - Conv2d(64, 1, 2), one logit) on a real batch and on the
       generator's detached batch, then the generator (ConvTranspose2d(32, 128, 4) - BN - ReLU -
       ConvTranspose2d(128, 64, 3/1/1) - BN - ReLU - ConvTranspose2d(64, 64, 4/2/1) - BN - ReLU
       - ConvTranspose2d(64, 1, 3/1/1) - Tanh) through the discriminator; BCEWithLogitsLoss,
       two Adam(lr 2e-4, betas (0.5, 0.999)). The example trains with batch 32; the suite times
       batch 64. Inference is the generator's forward (eval mode, no gradient) of 64 and of one
       z. PyTorch-face code run by ember and by torch; no NumPy model.
"""

import dataclasses

import numpy as np

from bench.steps import Model, Targets, framework_implementations, framework_steps

BATCH, NZ, NGF, NDF = 64, 32, 64, 32


def make_dcgan(lib):
    """(generator, discriminator) as the example builds them, DCGAN-initialised."""
    nn = lib.nn
    generator = nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 3, 1, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, 1, 3, 1, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, 1, 2, 1, 0, bias=False), nn.Flatten(0))

    def weights_init(m):
        if "Conv" in type(m).__name__:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in type(m).__name__:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.constant_(m.bias, 0)

    generator.apply(weights_init)
    discriminator.apply(weights_init)
    return generator, discriminator


def _data():
    rng = np.random.default_rng(0)
    real = np.tanh(rng.standard_normal((BATCH, 1, 8, 8))).astype(np.float32)
    return real, rng.standard_normal((BATCH, NZ, 1, 1)).astype(np.float32)


def _steps(lib):
    net_g, net_d = make_dcgan(lib)
    criterion = lib.nn.BCEWithLogitsLoss()
    opt_d = lib.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = lib.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_np, noise_np = _data()
    real, noise = lib.from_numpy(real_np), lib.from_numpy(noise_np)
    ones, zeros = lib.ones(BATCH), lib.zeros(BATCH)

    def train():
        net_d.zero_grad()
        err_real = criterion(net_d(real), ones)
        err_real.backward()
        fake = net_g(noise)
        err_fake = criterion(net_d(fake.detach()), zeros)
        err_fake.backward()
        opt_d.step()
        net_g.zero_grad()
        err_g = criterion(net_d(fake), ones)
        err_g.backward()
        opt_g.step()
        return err_g

    def eval_mode():
        net_g.eval()
        net_d.eval()

    # The generator's inference steps as for any model (its own train step is unused).
    generator_steps = framework_steps(lib, net_g, None, None, noise_np, np.zeros(BATCH))
    return dataclasses.replace(generator_steps, train=train, eval_mode=eval_mode)


MODELS = (
    Model("dcgan", "DCGAN on 8x8 digits (G and D steps), batch 64, Adam", "DCGAN", BATCH,
          Targets(train=1.3), framework_implementations(_steps)),
)
