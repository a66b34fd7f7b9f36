import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from lookbook.classifier.models import build_model, load_trained, model_meta
from lookbook.gan import pipeline
from lookbook.gan.train import GanTrainingFailure
from lookbook.labels import get_scheme

CPU = torch.device("cpu")
CLASSES = list(get_scheme("gender_master").classes)
GAN_SECTION = {
    "epochs": 2, "batch_size": 16, "lr": 2e-4, "beta1": 0.5, "nz": 16, "ngf": 4, "ndf": 4, "seed": 0,
    "min_class_images": 8, "collapse_iterations": 200, "collapse_loss": 1e-3, "on_failure": "error",
    "eval_batch_size": 64,
}


def coloured_split(counts: list[int], seed: int, first_id: int) -> SimpleNamespace:
    """A cache split whose class k is noise around its own colour, so a classifier can tell classes apart."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    palette = rng.integers(40, 216, size=(len(counts), 3))
    noise = rng.integers(-30, 31, size=(len(labels), 64, 64, 3))
    images = np.clip(palette[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    ids = np.arange(first_id, first_id + len(labels), dtype=np.int64)
    return SimpleNamespace(images=images, ids=ids, labels=labels)


@pytest.fixture(scope="module")
def splits():
    # Class 0 (Men Apparel) has 24 training images, class 5 only 4: below min_class_images.
    train = coloured_split([24, 12, 10, 10, 10, 4], seed=0, first_id=1000)
    test = coloured_split([6, 3, 3, 3, 3, 1], seed=0, first_id=5000)
    return train, test


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A random resnet18 saved in the classifier's best.pt format, reading 32 px inputs."""
    torch.manual_seed(0)
    model = build_model("resnet18", len(CLASSES))
    meta = model_meta("resnet18", CLASSES, 32, {}, epoch=1)
    path = tmp_path_factory.mktemp("classifier") / "best.pt"
    torch.save({"model": model.state_dict(), **meta}, path)
    return load_trained(path)


@pytest.fixture(scope="module")
def trained_all(splits, tmp_path_factory):
    train, test = splits
    out = tmp_path_factory.mktemp("gan") / "all"
    status = pipeline.run_training("all", CLASSES, train.images, train.ids, train.labels, test.labels, GAN_SECTION, out, CPU)
    return out, status


@pytest.fixture(scope="module")
def real_features(splits, classifier, tmp_path_factory):
    train, test = splits
    model, meta = classifier
    path = tmp_path_factory.mktemp("real") / "real_features.npz"
    pipeline.write_real_features(model, meta, train, test, path, 64, CPU)
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def test_run_training_writes_status(trained_all):
    out, status = trained_all
    saved = json.loads((out / "status.json").read_text())
    assert saved["status"] == "trained"
    assert saved["n_train_images"] == 70
    assert saved["epochs_done"] == 2
    assert saved == status


def test_run_training_writes_losses(trained_all):
    out, _ = trained_all
    losses = pd.read_csv(out / "losses.tsv", sep="\t")
    assert list(losses.columns) == ["iteration", "epoch", "loss_d", "loss_g", "d_x", "d_g_z"]
    # 70 images in batches of 16: 5 iterations per epoch.
    assert len(losses) == 10


def test_run_training_writes_grid_per_epoch(trained_all):
    out, _ = trained_all
    grids = sorted(path.name for path in (out / "grids").iterdir())
    assert grids == ["epoch_001.png", "epoch_002.png"]
    with Image.open(out / "grids" / "epoch_002.png") as image:
        # 8 tiles of 64 px with 2 px padding around each: 8 * 66 + 2.
        assert image.size == (530, 530)


def test_run_training_samples_at_least_grid_size(trained_all):
    out, status = trained_all
    samples = np.load(out / "samples.npy")
    # The test split has 19 images, fewer than the 64 of a grid.
    assert samples.shape == (64, 64, 64, 3)
    assert status["n_samples"] == 64


def test_run_training_keeps_checkpoint(trained_all):
    out, _ = trained_all
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 2
    assert checkpoint["fixed_noise"].shape == (64, 16, 1, 1)


def test_run_training_skips_small_class(splits, tmp_path):
    train, test = splits
    status = pipeline.run_training(
        "women-other", CLASSES, train.images, train.ids, train.labels, test.labels, GAN_SECTION, tmp_path, CPU
    )
    assert status["status"] == "skipped"
    assert "4 training images, fewer than gan.min_class_images=8" in status["reason"]
    assert np.load(tmp_path / "samples.npy").shape == (0, 64, 64, 3)
    assert len(pd.read_csv(tmp_path / "losses.tsv", sep="\t")) == 0
    assert (tmp_path / "grids").is_dir()
    assert not (tmp_path / "checkpoint.pt").exists()


def test_run_training_failure_raises_by_default(splits, tmp_path):
    train, test = splits
    section = {**GAN_SECTION, "collapse_loss": 100.0, "collapse_iterations": 2}
    with pytest.raises(GanTrainingFailure, match="gan.on_failure: report"):
        pipeline.run_training("men-apparel", CLASSES, train.images, train.ids, train.labels, test.labels, section, tmp_path, CPU)


def test_run_training_failure_reported(splits, tmp_path):
    train, test = splits
    section = {**GAN_SECTION, "collapse_loss": 100.0, "collapse_iterations": 2, "on_failure": "report"}
    status = pipeline.run_training(
        "men-apparel", CLASSES, train.images, train.ids, train.labels, test.labels, section, tmp_path, CPU
    )
    assert status["status"] == "failed"
    assert status["failure_iteration"] == 2
    assert json.loads((tmp_path / "status.json").read_text())["status"] == "failed"
    assert np.load(tmp_path / "samples.npy").shape == (0, 64, 64, 3)


def test_run_training_unknown_subset_names_choices(splits, tmp_path):
    train, test = splits
    with pytest.raises(ValueError, match="men-apparel"):
        pipeline.run_training("kids", CLASSES, train.images, train.ids, train.labels, test.labels, GAN_SECTION, tmp_path, CPU)


def test_real_features_shapes(real_features):
    assert real_features["train_features"].shape == (70, 512)
    assert real_features["test_features"].shape == (19, 512)
    assert real_features["test_logits"].shape == (19, 6)


def test_run_quality_trained_subset(trained_all, real_features, classifier):
    out, status = trained_all
    model, meta = classifier
    samples = np.load(out / "samples.npy")
    result = pipeline.run_quality("all", CLASSES, status, samples, real_features, model, meta, 64, CPU)
    assert result["fid"] > 0
    assert result["n_generated_in_fid"] == 19
    assert result["fid_floor_train_vs_test"] > 0
    assert "not comparable to published Inception-based FIDs" in result["fid_label"]
    assert sum(result["generated_class_shares"].values()) == pytest.approx(1.0)
    assert result["class_agreement"] is None
    assert len(result["neighbours"]) == 8
    assert len(result["neighbours"][0]["train_ids"]) == 5


def test_run_quality_neighbours_stay_in_class(real_features, classifier, splits, tmp_path):
    train, test = splits
    model, meta = classifier
    status = pipeline.run_training(
        "men-apparel", CLASSES, train.images, train.ids, train.labels, test.labels, GAN_SECTION, tmp_path, CPU
    )
    samples = np.load(tmp_path / "samples.npy")
    result = pipeline.run_quality("men-apparel", CLASSES, status, samples, real_features, model, meta, 64, CPU)
    class_ids = set(train.ids[train.labels == 0].tolist())
    neighbour_ids = {value for entry in result["neighbours"] for value in entry["train_ids"]}
    assert neighbour_ids <= class_ids
    assert 0.0 <= result["class_agreement"] <= 1.0
    assert result["n_real_test"] == 6


def test_run_quality_skipped_subset_has_floor_only(real_features, classifier):
    model, meta = classifier
    status = {"status": "skipped", "reason": "too few"}
    empty = np.zeros((0, 64, 64, 3), dtype=np.uint8)
    result = pipeline.run_quality("men-other", CLASSES, status, empty, real_features, model, meta, 64, CPU)
    assert result["fid"] is None
    assert result["fid_floor_train_vs_test"] > 0
    assert result["neighbours"] == []


def test_run_quality_rejects_other_classes(real_features, classifier):
    model, meta = classifier
    other_meta = {**meta, "classes": ["Apparel", "Footwear"]}
    with pytest.raises(ValueError, match="same labels.scheme"):
        pipeline.run_quality("all", CLASSES, {"status": "trained"}, np.zeros((0, 64, 64, 3), np.uint8), real_features, model, other_meta, 64, CPU)


def test_draw_training_figures_trained(trained_all, tmp_path):
    out, _ = trained_all
    pipeline.draw_training_figures(out / "status.json", out / "losses.tsv", out / "grids", tmp_path / "grid.png", tmp_path / "losses.png")
    assert Image.open(tmp_path / "grid.png").size[0] > 500
    assert Image.open(tmp_path / "losses.png").size[0] > 500


def test_draw_figures_skipped_subset(splits, tmp_path):
    train, test = splits
    pipeline.run_training("women-other", CLASSES, train.images, train.ids, train.labels, test.labels, GAN_SECTION, tmp_path, CPU)
    pipeline.draw_training_figures(tmp_path / "status.json", tmp_path / "losses.tsv", tmp_path / "grids", tmp_path / "grid.png", tmp_path / "losses.png")
    assert (tmp_path / "grid.png").is_file()
    assert (tmp_path / "losses.png").is_file()


def test_draw_neighbours_writes_png(trained_all, real_features, classifier, splits, tmp_path):
    out, status = trained_all
    model, meta = classifier
    result = pipeline.run_quality("all", CLASSES, status, np.load(out / "samples.npy"), real_features, model, meta, 64, CPU)
    (tmp_path / "quality.json").write_text(json.dumps(result))
    pipeline.draw_neighbours(tmp_path / "quality.json", out / "samples.npy", splits[0].images, tmp_path / "neighbours.png")
    with Image.open(tmp_path / "neighbours.png") as image:
        assert image.size[1] > image.size[0]


def test_summary_table_one_row_per_subset(trained_all):
    _, status = trained_all
    skipped = {"subset": "women-other", "class": "Women Other", "status": "skipped", "reason": "too few", "n_train_images": 4}
    table = pipeline.summary_table([status, skipped], [{"subset": "all", "fid": 12.5, "n_generated": 64}])
    assert list(table["subset"]) == ["all", "women-other"]
    assert table.loc[0, "fid"] == 12.5
    assert table.loc[0, "final_loss_d"] == pytest.approx(status["final_loss_d"])
    assert pd.isna(table.loc[1, "fid"])
