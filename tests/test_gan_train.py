import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.gan import dcgan
from lookbook.gan.train import GanConfig, generate, train

CPU = torch.device("cpu")


def tiny_config(**overrides) -> GanConfig:
    values = dict(epochs=1, batch_size=16, nz=16, ngf=4, ndf=4, seed=3)
    values.update(overrides)
    return GanConfig(**values)


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 64, 64, 3), dtype=np.uint8)


def test_train_one_step_changes_both_networks(tmp_path):
    config = tiny_config()
    checkpoint = tmp_path / "checkpoint.pt"
    result = train(random_images(16), config, checkpoint, CPU)
    torch.manual_seed(config.seed)
    generator, discriminator = dcgan.build(config.nz, config.ngf, config.ndf)
    saved = torch.load(checkpoint, weights_only=True)
    assert len(result.losses) == 1
    assert not torch.equal(saved["generator"]["main.0.weight"], generator.state_dict()["main.0.weight"])
    assert not torch.equal(saved["discriminator"]["main.0.weight"], discriminator.state_dict()["main.0.weight"])


def test_train_logs_one_row_per_iteration():
    result = train(random_images(40), tiny_config(epochs=2), None, CPU)
    assert list(result.losses["iteration"]) == [1, 2, 3, 4, 5, 6]
    assert list(result.losses["epoch"]) == [1, 1, 1, 2, 2, 2]
    assert result.losses[["d_x", "d_g_z"]].apply(lambda c: c.between(0, 1).all()).all()
    assert result.status == "trained"


def test_train_keeps_one_grid_per_epoch():
    result = train(random_images(16), tiny_config(epochs=2), None, CPU)
    assert len(result.grids) == 2
    assert result.grids[0].shape == (64, 64, 64, 3)
    assert result.grids[0].dtype == np.uint8


def test_resume_continues_loss_curve(tmp_path):
    images = random_images(40)
    straight = train(images, tiny_config(epochs=3), tmp_path / "straight.pt", CPU)

    resumed_path = tmp_path / "resumed.pt"
    first = train(images, tiny_config(epochs=1), resumed_path, CPU)
    resumed = train(images, tiny_config(epochs=3), resumed_path, CPU)

    assert len(first.losses) == 3
    assert resumed.resumed_from_epoch == 1
    pd.testing.assert_frame_equal(resumed.losses, straight.losses)
    assert np.array_equal(resumed.grids[-1], straight.grids[-1])


def test_resume_finished_run_trains_nothing(tmp_path):
    images = random_images(16)
    path = tmp_path / "checkpoint.pt"
    done = train(images, tiny_config(epochs=2), path, CPU)
    again = train(images, tiny_config(epochs=2), path, CPU)
    assert again.resumed_from_epoch == 2
    pd.testing.assert_frame_equal(again.losses, done.losses)


def test_resume_with_changed_setting_starts_fresh(tmp_path, caplog):
    images = random_images(16)
    path = tmp_path / "checkpoint.pt"
    train(images, tiny_config(epochs=1, lr=2e-4), path, CPU)
    result = train(images, tiny_config(epochs=1, lr=1e-3), path, CPU)
    assert result.resumed_from_epoch == 0
    assert "lr: 0.0002 -> 0.001" in caplog.text


def test_resume_with_changed_images_starts_fresh(tmp_path, caplog):
    path = tmp_path / "checkpoint.pt"
    train(random_images(16, seed=0), tiny_config(), path, CPU)
    result = train(random_images(16, seed=1), tiny_config(), path, CPU)
    assert result.resumed_from_epoch == 0
    assert "training images changed" in caplog.text


def test_nan_loss_marks_failed(monkeypatch):
    original = dcgan.Discriminator.forward
    calls = {"count": 0}

    def forward_with_nan(self, images):
        calls["count"] += 1
        logits = original(self, images)
        # Three discriminator calls per iteration; the fourth iteration gets NaN logits.
        return logits * float("nan") if calls["count"] > 9 else logits

    monkeypatch.setattr(dcgan.Discriminator, "forward", forward_with_nan)
    result = train(random_images(64), tiny_config(epochs=2), None, CPU)
    assert result.status == "failed"
    assert result.failure_iteration == 4
    assert "non-finite loss at iteration 4" in result.reason
    assert len(result.losses) == 4


def test_nan_failure_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    images = random_images(16)
    train(images, tiny_config(epochs=1), path, CPU)
    original = dcgan.Discriminator.forward
    monkeypatch.setattr(dcgan.Discriminator, "forward", lambda self, x: original(self, x) * float("nan"))
    result = train(images, tiny_config(epochs=2), path, CPU)
    assert result.status == "failed"
    assert torch.load(path, weights_only=True)["epoch"] == 1


def test_collapse_detected_after_configured_iterations():
    # Every discriminator loss is below 100, so the streak reaches 3 at iteration 3.
    config = tiny_config(epochs=2, collapse_loss=100.0, collapse_iterations=3)
    result = train(random_images(80), config, None, CPU)
    assert result.status == "failed"
    assert result.failure_iteration == 3
    assert "collapse_loss=100.0 for 3 iterations" in result.reason


def test_train_rejects_wrong_image_size():
    with pytest.raises(ValueError, match=r"uint8 \[N, 64, 64, 3\]"):
        train(np.zeros((4, 32, 32, 3), dtype=np.uint8), tiny_config(), None, CPU)


def test_generate_is_batch_independent():
    result = train(random_images(16), tiny_config(), None, CPU)
    noise = torch.randn(6, 16, 1, 1)
    together = generate(result.generator, noise)
    alone = generate(result.generator, noise[:1])
    assert np.array_equal(together[:1], alone)


def test_config_from_section_ignores_workflow_keys():
    section = {"epochs": 4, "batch_size": 8, "min_class_images": 10, "on_failure": "report", "eval_batch_size": 64}
    config = GanConfig.from_config(section)
    assert config.epochs == 4
    assert config.batch_size == 8
