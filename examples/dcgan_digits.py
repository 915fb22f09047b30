"""A DCGAN on the bundled 8x8 digits, written as pytorch/examples' dcgan/main.py writes it;
only the imports say ember.

The generator maps noise (nz x 1 x 1) through ConvTranspose2d + BatchNorm2d + ReLU blocks to
a Tanh image in [-1, 1]; the discriminator is Conv2d + LeakyReLU(0.2) blocks giving one logit.
Two Adam optimizers (lr 2e-4, betas (0.5, 0.999)); the discriminator step sees fake.detach().
After training, a CNN trained on the real digits (digits_judge.py) labels a batch of 256
generated digits, and a grid of 64 of them is written as a PNG (needs Pillow:
pip install "ember[vision]").

Three common additions to pytorch/examples' recipe, each a line or two, lift the share of
generated digits the judge labels with confidence >= 0.9 from ~0.77-0.80 (the recipe as it is,
in ember and in PyTorch alike) to ~0.85: a discriminator as wide as the generator's last layer
(ndf 64), one-sided label smoothing (real label 0.9; Salimans et al., 2016), and both learning
rates decayed linearly to zero over the second half of training. The samples come from an
exponential moving average of the generator's weights (torch.optim.swa_utils.AveragedModel).

    python examples/dcgan_digits.py            # the full run
    python examples/dcgan_digits.py --quick    # a short run for CI
"""
import argparse
import time

import ember as torch
import ember.nn as nn
import ember.optim as optim
from ember.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
import ember.vision.utils as vutils
from ember.utils.data import DataLoader, TensorDataset

import digits_judge

parser = argparse.ArgumentParser(description="DCGAN on the 8x8 digits")
parser.add_argument("--epochs", type=int, default=400, help="passes over the 1437 digits")
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--nz", type=int, default=32, help="size of the latent z vector")
parser.add_argument("--ngf", type=int, default=64)
parser.add_argument("--ndf", type=int, default=64)
parser.add_argument("--lr", type=float, default=2e-4)
parser.add_argument("--beta1", type=float, default=0.5)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--outf", default="dcgan_digits.png", help="where the PNG grid goes")
parser.add_argument("--quick", action="store_true", help="a short run (CI)")
opt = parser.parse_args()
if opt.quick:
    opt.epochs = 5

torch.manual_seed(opt.seed)
nz, ngf, ndf = opt.nz, opt.ngf, opt.ndf

images, _ = digits_judge.real_digits("train")  # (1437, 1, 8, 8) in [-1, 1]
dataloader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=opt.batch_size,
                        shuffle=True, drop_last=True)


# custom weights initialization called on netG and netD (as in the DCGAN paper)
def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 4 x 4
            nn.ConvTranspose2d(ngf * 2, ngf, 3, 1, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 4 x 4
            nn.ConvTranspose2d(ngf, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 8 x 8
            nn.ConvTranspose2d(ngf, 1, 3, 1, 1, bias=False),
            nn.Tanh(),
            # state size. 1 x 8 x 8
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            # input is 1 x 8 x 8
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 4 x 4
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 2 x 2: one logit per image (BCEWithLogitsLoss)
            nn.Conv2d(ndf * 2, 1, 2, 1, 0, bias=False),
        )

    def forward(self, input):
        return self.main(input).view(-1)


netG = Generator()
netG.apply(weights_init)
netD = Discriminator()
netD.apply(weights_init)
print(netG)
print(netD)

criterion = nn.BCEWithLogitsLoss()
fixed_noise = torch.randn(256, nz, 1, 1)  # judged at the end; the first 64 drawn
real_label, fake_label = 0.9, 0.0  # one-sided label smoothing: real targets 0.9 for D
optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))


def decay_second_half(epoch):  # lr factor: 1 for the first half, then linearly down to 0
    half = opt.epochs // 2
    return 1.0 if epoch < half else max(0.0, 1.0 - (epoch - half) / (opt.epochs - half))


schedulerD = optim.lr_scheduler.LambdaLR(optimizerD, decay_second_half)
schedulerG = optim.lr_scheduler.LambdaLR(optimizerG, decay_second_half)
netG_ema = AveragedModel(netG, multi_avg_fn=get_ema_multi_avg_fn(0.999))

start = time.perf_counter()
for epoch in range(opt.epochs):
    for i, (real,) in enumerate(dataloader):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        netD.zero_grad()
        batch_size = real.size(0)
        label = torch.full((batch_size,), real_label)
        output = netD(real)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = torch.sigmoid(output).mean().item()

        noise = torch.randn(batch_size, nz, 1, 1)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = torch.sigmoid(output).mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(1.0)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = torch.sigmoid(output).mean().item()
        optimizerG.step()
        netG_ema.update_parameters(netG)

    schedulerD.step()
    schedulerG.step()
    if epoch % max(1, opt.epochs // 10) == 0 or epoch == opt.epochs - 1:
        print(f"[{epoch + 1}/{opt.epochs}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
              f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
print(f"Training time: {time.perf_counter() - start:.1f} s")

with torch.no_grad():  # (as pytorch/examples draws its samples: BatchNorm in training mode)
    fake = netG_ema(fixed_noise)
classifier = digits_judge.train_classifier()
digits_judge.report(classifier, fake.numpy())
try:
    vutils.save_image(fake[:64], opt.outf, normalize=True)
    print(f"Wrote {opt.outf}")
except ImportError as error:  # Pillow is an optional extra
    print(f"No PNG written: {error}")
