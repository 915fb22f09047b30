"""A DCGAN generator and discriminator written as PyTorch code writes them (nn.Sequential of
ConvTranspose2d / BatchNorm2d / ReLU / Tanh and Conv2d / LeakyReLU / Sigmoid, weights_init by
class name), only the imports changed: shapes, PyTorch parity on the same weights, and a few
adversarial steps that run and move the losses."""
import numpy as np
import pytest

import ember as torch_like
import ember.nn as nn
from ember.testing import assert_close

NZ, NGF, NDF, NC = 16, 8, 8, 3


def make_generator(nn):
    return nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh())


def make_discriminator(nn):
    return nn.Sequential(
        nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, 1, 8, 1, 0, bias=False), nn.Sigmoid())


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


def test_generator_matches_torch_on_the_same_weights():
    torch = pytest.importorskip("torch")
    tg, eg = make_generator(torch.nn), make_generator(nn)
    eg.apply(weights_init)
    tg.load_state_dict({k: torch.tensor(v.numpy()) for k, v in eg.state_dict().items()})
    z = np.random.default_rng(0).standard_normal((4, NZ, 1, 1)).astype(np.float32)
    tz, ez = torch.tensor(z, requires_grad=True), torch_like.tensor(z, requires_grad=True)
    ty, ey = tg(tz), eg(ez)
    assert tuple(ey.shape) == (4, NC, 32, 32) == tuple(ty.shape)
    assert_close(ey, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    ty.square().sum().backward()
    ey.square().sum().backward()
    assert_close(ez.grad, tz.grad.numpy(), rtol=1e-3, atol=1e-4)
    for (name, tp), ep in zip(tg.named_parameters(), eg.parameters()):
        assert_close(ep.grad, tp.grad.numpy(), rtol=1e-3, atol=1e-4, msg=name)


def test_adversarial_steps_run_and_train():
    torch_like.manual_seed(0)
    netG, netD = make_generator(nn), make_discriminator(nn)
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optD = torch_like.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optG = torch_like.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real = torch_like.tensor(np.tanh(np.random.default_rng(1).standard_normal(
        (8, NC, 32, 32))).astype(np.float32))
    d_losses, g_losses = [], []
    for _ in range(6):
        netD.zero_grad()
        out = netD(real).view(-1)
        err_real = criterion(out, torch_like.full((8,), 1.0))
        err_real.backward()
        fake = netG(torch_like.randn(8, NZ, 1, 1))
        err_fake = criterion(netD(fake.detach()).view(-1), torch_like.full((8,), 0.0))
        err_fake.backward()
        optD.step()
        netG.zero_grad()
        err_g = criterion(netD(fake).view(-1), torch_like.full((8,), 1.0))
        err_g.backward()
        optG.step()
        d_losses.append((err_real + err_fake).item())
        g_losses.append(err_g.item())
    assert all(np.isfinite(d_losses + g_losses))
    assert d_losses[-1] < d_losses[0]  # the discriminator learns to tell them apart
