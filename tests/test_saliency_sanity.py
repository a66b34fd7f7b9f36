"""Cascading weight randomization and the rank correlation of maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from lookbook.saliency.guided import NormalizedModel
from lookbook.saliency.sanity import cascade_units, cascading_randomization, randomize_, spearman_per_image

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


@pytest.fixture(scope="module")
def tiny_resnet():
    torch.manual_seed(0)
    return NormalizedModel(resnet18(num_classes=3), *IMAGENET).eval()


@pytest.fixture(scope="module")
def images():
    # 128 px gives a 4 x 4 Grad-CAM map at layer4, enough cells to rank.
    return torch.rand(4, 3, 128, 128, generator=torch.Generator().manual_seed(1))


def test_spearman_identical_maps_is_one():
    maps = np.random.default_rng(0).random((3, 5, 5))
    assert spearman_per_image(maps, maps).tolist() == [1.0, 1.0, 1.0]


def test_spearman_reversed_ranks_is_minus_one():
    first = np.arange(16, dtype=float).reshape(1, 4, 4)
    assert spearman_per_image(first, -first)[0] == pytest.approx(-1.0)


def test_spearman_constant_map_is_nan():
    first = np.zeros((1, 3, 3))
    second = np.arange(9, dtype=float).reshape(1, 3, 3)
    assert np.isnan(spearman_per_image(first, second)[0])


def test_cascade_units_resnet_head_first(tiny_resnet):
    assert cascade_units(tiny_resnet) == [
        "model.fc",
        "model.layer4",
        "model.layer3",
        "model.layer2",
        "model.layer1",
        "model.bn1",
        "model.conv1",
    ]


def test_randomize_is_seeded_and_resets_batchnorm():
    first = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    second = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    first[1].running_mean.fill_(5.0)
    randomize_(first, seed=3)
    randomize_(second, seed=3)
    assert torch.equal(first[0].weight, second[0].weight)
    assert first[1].running_mean.abs().sum().item() == 0.0


@pytest.fixture(scope="module")
def cascade(tiny_resnet, images):
    before = {key: value.clone() for key, value in tiny_resnet.state_dict().items()}
    table = cascading_randomization(tiny_resnet, images, torch.tensor([0, 1, 2, 0]), batch_size=2)
    return table, before


def test_cascading_randomization_untouched_model_is_one(cascade):
    table, _ = cascade
    trained = table[table["step"] == 0].set_index("method")
    assert trained.loc["guided_backprop", "spearman_mean"] == pytest.approx(1.0)
    assert trained.loc["grad_cam", "spearman_mean"] == pytest.approx(1.0)
    assert trained.loc["guided_backprop", "randomized_through"] == "none"
    assert sorted(table["step"].unique().tolist()) == list(range(8))
    assert table["n_images"].eq(4).all()


def test_cascading_randomization_leaves_model_unchanged(cascade, tiny_resnet):
    _, before = cascade
    for key, value in before.items():
        assert torch.equal(tiny_resnet.state_dict()[key], value), key


def test_cascading_randomization_all_layers_change_maps(cascade):
    table, _ = cascade
    last = table[table["step"] == table["step"].max()].set_index("method")
    assert last.loc["guided_backprop", "spearman_mean"] < 0.999
    assert last.loc["grad_cam", "spearman_mean"] < 0.999


def test_cascading_randomization_one_cell_grad_cam_is_undefined(tiny_resnet):
    # At 32 px layer4 is 1 x 1, so Grad-CAM has nothing to rank at any step.
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    table = cascading_randomization(tiny_resnet, images, torch.tensor([0, 1]), batch_size=2)
    grad_cam_rows = table[table["method"] == "grad_cam"]
    assert grad_cam_rows["n_undefined"].eq(2).all()
    assert grad_cam_rows["spearman_mean"].isna().all()
