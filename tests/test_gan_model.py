import pytest
import torch
from torch import nn

from lookbook.gan.dcgan import Discriminator, Generator, build, init_weights


def test_generator_output_shape_and_range():
    generator = Generator(nz=100, ngf=8)
    images = generator(torch.randn(5, 100, 1, 1))
    assert images.shape == (5, 3, 64, 64)
    assert images.min() >= -1.0
    assert images.max() <= 1.0


def test_discriminator_one_logit_per_image():
    discriminator = Discriminator(ndf=8)
    logits = discriminator(torch.rand(5, 3, 64, 64) * 2 - 1)
    assert logits.shape == (5,)


def test_discriminator_first_layer_has_no_batchnorm():
    layers = list(Discriminator(ndf=8).main)
    assert isinstance(layers[0], nn.Conv2d)
    assert isinstance(layers[1], nn.LeakyReLU)
    assert layers[1].negative_slope == 0.2


def test_generator_ends_with_tanh():
    assert isinstance(list(Generator(nz=10, ngf=8).main)[-1], nn.Tanh)


def test_init_weights_conv_normal_002():
    torch.manual_seed(0)
    generator, discriminator = build(nz=100, ngf=64, ndf=64)
    weights = torch.cat([m.weight.flatten() for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)


def test_init_weights_batchnorm_normal_1_002():
    torch.manual_seed(0)
    _, discriminator = build(nz=100, ngf=64, ndf=64)
    norms = [m for m in discriminator.modules() if isinstance(m, nn.BatchNorm2d)]
    weights = torch.cat([m.weight for m in norms])
    biases = torch.cat([m.bias for m in norms])
    assert weights.mean().item() == pytest.approx(1.0, abs=0.005)
    assert weights.std().item() == pytest.approx(0.02, rel=0.1)
    assert torch.count_nonzero(biases).item() == 0


def test_init_weights_ignores_other_modules():
    layer = nn.Linear(4, 4)
    before = layer.weight.detach().clone()
    init_weights(layer)
    assert torch.equal(layer.weight, before)
