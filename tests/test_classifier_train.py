"""Training: the loader, overfitting a tiny set, and bit-for-bit resume after an interruption or a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.classifier.data import BatchLoader
from lookbook.classifier.models import model_meta
from lookbook.classifier.train import METRIC_COLUMNS, Split, fit
from lookbook.config import resolve

CLASSES = ["red", "green", "blue"]
REPO_ROOT = Path(__file__).resolve().parents[1]


def _split(count: int, seed: int, size: int = 16) -> Split:
    """Noisy images whose class is the colour channel that is brightest."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CLASSES)
    images = rng.integers(0, 80, (count, size, size, 3), dtype=np.uint8)
    images[np.arange(count), :, :, labels] += 150
    return Split(images=images, labels=labels.astype(np.int64), ids=np.arange(1000, 1000 + count))


def _config(**classifier) -> dict:
    settings = {"arch": "resnet18", "epochs": 3, "batch_size": 8, "lr": 1e-3, **classifier}
    return resolve({"preset": "tiny", "cache": {"classifier_size": 16}, "classifier": settings})


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.clone() for key, value in model.state_dict().items()}


class Interrupt(Exception):
    pass


def _stop_after(epoch: int):
    def callback(finished: int) -> None:
        if finished == epoch:
            raise Interrupt

    return callback


def test_loader_batches_normalized_inputs():
    split = _split(10, seed=0)
    meta = model_meta("resnet18", CLASSES, 16, {}, epoch=0)
    batches = list(BatchLoader(split.images, split.labels, meta, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert batches[0][0].shape == (4, 3, 16, 16)
    assert batches[0][0].dtype == torch.float32


def test_loader_same_epoch_same_batches():
    split = _split(12, seed=0)
    meta = model_meta("resnet18", CLASSES, 16, {}, epoch=0)
    loader = BatchLoader(split.images, split.labels, meta, 4, shuffle=True, augment=True, seed=3)
    loader.set_epoch(2)
    first = [x for x, _ in loader]
    loader.set_epoch(2)
    second = [x for x, _ in loader]
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_loader_epochs_differ():
    split = _split(12, seed=0)
    meta = model_meta("resnet18", CLASSES, 16, {}, epoch=0)
    loader = BatchLoader(split.images, split.labels, meta, 12, shuffle=True, augment=True, seed=3)
    loader.set_epoch(1)
    (first, _), = list(loader)
    loader.set_epoch(2)
    (second, _), = list(loader)
    assert not torch.equal(first, second)


def test_loader_without_augment_keeps_pixels():
    split = _split(4, seed=0)
    meta = model_meta("resnet18", CLASSES, 16, {}, epoch=0)
    (x, y), = list(BatchLoader(split.images, split.labels, meta, 4))
    std = torch.tensor(meta["std"]).view(3, 1, 1)
    mean = torch.tensor(meta["mean"]).view(3, 1, 1)
    restored = ((x[1] * std + mean) * 255).round().to(torch.uint8).permute(1, 2, 0)
    assert torch.equal(restored, torch.from_numpy(split.images[1]))


def test_loader_rejects_label_count_mismatch():
    split = _split(4, seed=0)
    meta = model_meta("resnet18", CLASSES, 16, {}, epoch=0)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        BatchLoader(split.images, split.labels[:3], meta, 2)


def test_fit_overfits_tiny_set(tmp_path):
    train = _split(24, seed=0)
    result = fit(train, train, CLASSES, _config(epochs=6, augment=False), tmp_path, torch.device("cpu"))
    assert result.history[-1]["train_acc"] == 1.0
    assert result.history[-1]["train_loss"] < 0.1
    assert max(row["val_acc"] for row in result.history) == 1.0


def test_fit_writes_metrics_table(tmp_path):
    fit(_split(12, 0), _split(6, 1), CLASSES, _config(epochs=2), tmp_path, torch.device("cpu"))
    metrics = pd.read_csv(tmp_path / "metrics.tsv", sep="\t")
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["epoch"].tolist() == [1, 2]
    assert (metrics["images_per_s"] > 0).all()


def test_fit_checkpoint_has_full_state(tmp_path):
    fit(_split(12, 0), _split(6, 1), CLASSES, _config(epochs=1), tmp_path, torch.device("cpu"))
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(state) >= {"model", "optimizer", "scaler", "epoch", "rng", "history", "best", "config"}
    assert set(state["rng"]) == {"torch", "cuda", "numpy", "python"}
    assert state["epoch"] == 1
    assert state["config"]["classifier"]["arch"] == "resnet18"


def test_fit_resume_equals_uninterrupted(tmp_path):
    train, val = _split(24, 0), _split(9, 1)
    config = _config(epochs=3)
    full = fit(train, val, CLASSES, config, tmp_path / "full", torch.device("cpu"))
    full_last = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["model"]

    with pytest.raises(Interrupt):
        fit(train, val, CLASSES, config, tmp_path / "resumed", torch.device("cpu"), on_epoch_end=_stop_after(1))
    resumed = fit(train, val, CLASSES, config, tmp_path / "resumed", torch.device("cpu"))
    resumed_last = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)["model"]

    assert all(torch.equal(full_last[key], resumed_last[key]) for key in full_last)
    assert all(torch.equal(value, resumed.model.state_dict()[key]) for key, value in _weights(full.model).items())
    assert resumed.best_epoch == full.best_epoch
    assert [row["val_loss"] for row in resumed.history] == [row["val_loss"] for row in full.history]


def test_fit_extends_finished_run(tmp_path):
    train, val = _split(12, 0), _split(6, 1)
    fit(train, val, CLASSES, _config(epochs=1), tmp_path, torch.device("cpu"))
    result = fit(train, val, CLASSES, _config(epochs=2), tmp_path, torch.device("cpu"))
    assert [row["epoch"] for row in result.history] == [1, 2]


def test_fit_changed_recipe_starts_over(tmp_path):
    train, val = _split(12, 0), _split(6, 1)
    fit(train, val, CLASSES, _config(epochs=1, lr=1e-3), tmp_path, torch.device("cpu"))
    result = fit(train, val, CLASSES, _config(epochs=1, lr=5e-4), tmp_path, torch.device("cpu"))
    stale = list(tmp_path.glob("checkpoint.stale-*.pt"))
    assert len(stale) == 1
    assert [row["epoch"] for row in result.history] == [1]
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["config"]["classifier"]["lr"] == 5e-4


# A training process that the test kills with SIGKILL; it reads the synthetic splits from .npy files.
_TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    from lookbook.classifier.train import Split, fit
    from lookbook.config import resolve

    torch.set_num_threads(1)
    data, out_dir = sys.argv[1], sys.argv[2]
    splits = {
        name: Split(np.load(f"{data}/{name}.npy"), np.load(f"{data}/{name}.labels.npy"), np.arange(0))
        for name in ("train", "val")
    }
    config = resolve({
        "preset": "tiny",
        "cache": {"classifier_size": 16},
        "classifier": {"arch": "resnet18", "epochs": 3, "batch_size": 8, "lr": 1e-3},
    })
    fit(splits["train"], splits["val"], ["red", "green", "blue"], config, out_dir, torch.device("cpu"))
    """
)


def _run_training(data: Path, out_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", _TRAIN_SCRIPT, str(data), str(out_dir)], env=env)


def test_fit_killed_process_resumes_bit_for_bit(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name, seed, count in (("train", 0, 32), ("val", 1, 6)):
        split = _split(count, seed)
        np.save(data / f"{name}.npy", split.images)
        np.save(data / f"{name}.labels.npy", split.labels)

    assert _run_training(data, tmp_path / "full").wait(timeout=300) == 0

    process = _run_training(data, tmp_path / "killed")
    checkpoint = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    killed_at = torch.load(checkpoint, weights_only=True)["epoch"]
    assert _run_training(data, tmp_path / "killed").wait(timeout=300) == 0

    full = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    resumed = torch.load(checkpoint, weights_only=True)
    assert killed_at < 3
    assert resumed["epoch"] == 3
    assert all(torch.equal(full["model"][key], resumed["model"][key]) for key in full["model"])
    assert all(torch.equal(full["best"]["model"][key], resumed["best"]["model"][key]) for key in full["model"])
    assert not list((tmp_path / "killed").glob(".checkpoint.*"))


def test_fit_removes_partial_checkpoint_files(tmp_path):
    # A kill during torch.save leaves the temporary file of atomic_path behind.
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".checkpoint.abc123.pt").write_bytes(b"partial")
    fit(_split(6, 0), _split(3, 1), CLASSES, _config(epochs=1), tmp_path, torch.device("cpu"))
    assert not (tmp_path / ".checkpoint.abc123.pt").exists()
