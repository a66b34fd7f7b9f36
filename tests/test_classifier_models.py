"""Model building, trainable layers, the best.pt format and penultimate-layer features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lookbook.classifier.features import embed, to_model_input
from lookbook.classifier.models import (
    IMAGENET_MEAN,
    build_model,
    count_parameters,
    head,
    load_trained,
    model_meta,
    set_train_mode,
)
from lookbook.classifier.train import save_best

CLASSES = ["Men Apparel", "Men Accessories", "Men Other", "Women Apparel", "Women Accessories", "Women Other"]
FEATURE_SIZES = {"resnet18": 512, "resnet50": 2048, "vgg16": 4096, "densenet121": 1024}


def _meta(arch: str, size: int = 32) -> dict:
    return model_meta(arch, CLASSES, size, {"cache": {"resize": "pad"}, "classifier": {"arch": arch}}, epoch=3)


def _images(count: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("arch", sorted(FEATURE_SIZES))
def test_build_model_head_has_class_outputs(arch):
    model = build_model(arch, len(CLASSES))
    assert head(model).out_features == len(CLASSES)
    assert head(model).in_features == FEATURE_SIZES[arch]


def test_build_model_last_stage_trains_layer4_and_fc():
    model = build_model("resnet18", len(CLASSES), trainable="last_stage")
    trainable = {name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"layer4", "fc"}


def test_build_model_all_trains_everything():
    model = build_model("resnet18", len(CLASSES), trainable="all")
    assert count_parameters(model, trainable_only=True) == count_parameters(model)


def test_build_model_rejects_unknown_trainable():
    with pytest.raises(ValueError, match="classifier.trainable='layer3'"):
        build_model("resnet18", len(CLASSES), trainable="layer3")


def test_set_train_mode_keeps_frozen_batchnorm_in_eval():
    model = build_model("resnet18", len(CLASSES), trainable="last_stage")
    set_train_mode(model)
    assert model.bn1.training is False
    assert model.layer3[0].bn1.training is False
    assert model.layer4[0].bn1.training is True
    assert model.training is True


def test_set_train_mode_frozen_batchnorm_keeps_running_stats():
    model = build_model("resnet18", len(CLASSES), trainable="last_stage")
    before = model.bn1.running_mean.clone()
    set_train_mode(model)
    model(to_model_input(_images(4, 32), _meta("resnet18")))
    assert torch.equal(model.bn1.running_mean, before)


def test_load_trained_roundtrip_same_outputs(tmp_path):
    torch.manual_seed(0)
    model = build_model("resnet18", len(CLASSES)).eval()
    meta = _meta("resnet18")
    save_best(tmp_path / "best.pt", model, meta)

    loaded, loaded_meta = load_trained(tmp_path / "best.pt")
    x = to_model_input(_images(3, 32), meta)
    assert loaded.training is False
    assert torch.equal(loaded(x), model(x))
    assert loaded_meta["classes"] == CLASSES
    assert loaded_meta["image_size"] == 32
    assert loaded_meta["epoch"] == 3
    assert loaded_meta["mean"] == list(IMAGENET_MEAN)
    assert "model" not in loaded_meta


def test_best_file_loads_with_weights_only(tmp_path):
    save_best(tmp_path / "best.pt", build_model("resnet18", len(CLASSES)), _meta("resnet18"))
    payload = torch.load(tmp_path / "best.pt", weights_only=True)
    assert set(payload) >= {"model", "arch", "classes", "image_size", "mean", "std", "epoch", "config"}


def test_load_trained_rejects_foreign_file(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a lookbook classifier model"):
        load_trained(tmp_path / "other.pt")


@pytest.mark.parametrize("arch", sorted(FEATURE_SIZES))
def test_embed_returns_penultimate_features(arch):
    torch.manual_seed(0)
    model = build_model(arch, len(CLASSES)).eval()
    features = embed(model, _images(5, 32), _meta(arch), batch_size=2)
    assert features.shape == (5, FEATURE_SIZES[arch])
    assert features.dtype == np.float32


def test_embed_matches_head_input():
    torch.manual_seed(0)
    model = build_model("resnet18", len(CLASSES)).eval()
    meta = _meta("resnet18")
    images = _images(4, 32)
    features = embed(model, images, meta)
    with torch.no_grad():
        logits = model(to_model_input(images, meta))
        from_features = head(model)(torch.from_numpy(features))
    assert torch.allclose(from_features, logits, atol=1e-5)


def test_embed_resizes_to_model_size():
    torch.manual_seed(0)
    model = build_model("resnet18", len(CLASSES)).eval()
    meta = _meta("resnet18", size=32)
    # Plain colours look the same at any size, so only the resize can change the features.
    colours = np.array([[200, 30, 90], [10, 240, 120]], dtype=np.uint8).reshape(2, 1, 1, 3)
    small = np.broadcast_to(colours, (2, 32, 32, 3)).copy()
    large = np.broadcast_to(colours, (2, 80, 80, 3)).copy()
    assert np.allclose(embed(model, large, meta), embed(model, small, meta), atol=1e-5)


def test_embed_removes_hook():
    model = build_model("resnet18", len(CLASSES)).eval()
    embed(model, _images(2, 32), _meta("resnet18"))
    assert len(head(model)._forward_pre_hooks) == 0


def test_embed_empty_input_returns_zero_rows():
    model = build_model("resnet18", len(CLASSES)).eval()
    features = embed(model, np.zeros((0, 32, 32, 3), dtype=np.uint8), _meta("resnet18"))
    assert features.shape == (0, 512)


def test_to_model_input_normalizes_with_meta():
    meta = _meta("resnet18", size=8)
    white = np.full((1, 8, 8, 3), 255, dtype=np.uint8)
    x = to_model_input(white, meta)
    expected = (1.0 - IMAGENET_MEAN[0]) / meta["std"][0]
    assert x.shape == (1, 3, 8, 8)
    assert x[0, 0, 0, 0].item() == pytest.approx(expected)


def test_to_model_input_rejects_float_images():
    with pytest.raises(ValueError, match="expected uint8 images"):
        to_model_input(np.zeros((1, 8, 8, 3), dtype=np.float32), _meta("resnet18"))


def test_head_is_linear_for_every_family():
    for arch in FEATURE_SIZES:
        assert isinstance(head(build_model(arch, 2)), nn.Linear)
