"""The DCGAN of Radford, Metz and Chintala (2016), "Unsupervised Representation Learning
with Deep Convolutional Generative Adversarial Networks", at 64x64x3.

The layer layout follows the PyTorch DCGAN example (pytorch/examples, dcgan/main.py):
four stride-2 transposed convolutions up from a 4x4 map in the generator, four stride-2
convolutions down to 4x4 in the discriminator. The sizes are fixed to 64x64, which is
why the config schema accepts only ``cache.gan_size: 64``.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SIZE = 64
CHANNELS = 3


class Generator(nn.Module):
    """Map noise ``[B, nz, 1, 1]`` to images ``[B, 3, 64, 64]`` in [-1, 1].

    ``ngf`` is the channel count of the last hidden layer; the layers before it have
    2, 4 and 8 times as many.
    """

    def __init__(self, nz: int = 100, ngf: int = 64) -> None:
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            # [B, nz, 1, 1] -> [B, 8 ngf, 4, 4]
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # -> [B, 4 ngf, 8, 8]
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> [B, 2 ngf, 16, 16]
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> [B, ngf, 32, 32]
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # -> [B, 3, 64, 64]
            nn.ConvTranspose2d(ngf, CHANNELS, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.main(noise)


class Discriminator(nn.Module):
    """Map images ``[B, 3, 64, 64]`` in [-1, 1] to one logit per image, ``[B]``.

    The first layer has no BatchNorm: Radford et al. report that BatchNorm on every layer
    made samples oscillate and training unstable, which leaving out this layer avoided. The output is a logit, not a probability, so the loss is
    ``BCEWithLogitsLoss``, which stays accurate under mixed precision where a sigmoid
    followed by ``BCELoss`` does not.
    """

    def __init__(self, ndf: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # [B, 3, 64, 64] -> [B, ndf, 32, 32]
            nn.Conv2d(CHANNELS, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> [B, 2 ndf, 16, 16]
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> [B, 4 ndf, 8, 8]
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # -> [B, 8 ndf, 4, 4]
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # -> [B, 1, 1, 1]
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).view(-1)


def init_weights(module: nn.Module) -> None:
    """Initialize as Radford et al. do: conv weights from N(0, 0.02), BatchNorm weights from
    N(1, 0.02) and biases 0. Apply with ``model.apply(init_weights)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build(nz: int, ngf: int, ndf: int) -> tuple[Generator, Discriminator]:
    """Return a freshly initialized generator and discriminator, on the CPU."""
    generator = Generator(nz, ngf)
    discriminator = Discriminator(ndf)
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    return generator, discriminator
