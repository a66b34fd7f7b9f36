"""The classifier rules run by Snakemake in a scratch directory, on a cache the test writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lookbook.labels import get_scheme

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile")]
CLASSIFIER_RULES = ["fetch_weights", "train_classifier", "evaluate_classifier", "plot_classifier", "compare_classifiers"]


def _write_cache(workdir: Path, size: int) -> None:
    """Write results/cache/{size}/ as the data stage would, with six colour-coded classes."""
    classes = list(get_scheme("gender_master").classes)
    rng = np.random.default_rng(0)
    base = workdir / "results" / "cache" / str(size)
    base.mkdir(parents=True)
    for offset, (split, count) in enumerate((("train", 48), ("val", 12), ("test", 18))):
        labels = np.arange(count) % len(classes)
        images = rng.integers(0, 90, (count, size, size, 3), dtype=np.uint8)
        images[:, :, :, 0] += (labels * 30).astype(np.uint8)[:, None, None]
        np.save(base / f"{split}.npy", images)
        ids = 20000 + offset * 1000 + np.arange(count)
        table = pd.DataFrame({"id": ids, "label": [classes[i] for i in labels], "label_index": labels})
        table.to_csv(base / f"{split}.ids.tsv", sep="\t", index=False)
    (base / "meta.json").write_text(json.dumps({"classes": classes}))


def _snakemake(workdir: Path, *args: str, torch_home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TORCH_HOME": str(torch_home)}
    # Targets go before --allowed-rules, which would read them as rule names.
    command = [*SNAKEMAKE, *args, "--cores", "1", "--allowed-rules", *CLASSIFIER_RULES]
    return subprocess.run(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "config.yaml").write_text("preset: tiny\nclassifier:\n  epochs: 2\n")
    _write_cache(tmp_path, 32)
    return tmp_path


@pytest.mark.e2e
def test_rules_write_every_output(workdir):
    targets = ["results/classifier/comparison.tsv"] + [
        f"figures/classifier/resnet18/{name}.png" for name in ("curves", "distribution", "confusion", "misclassified")
    ]
    result = _snakemake(workdir, *targets, torch_home=workdir / "torch-home")
    assert result.returncode == 0, result.stdout[-3000:]

    out = workdir / "results" / "classifier" / "resnet18"
    for name in ("best.pt", "checkpoint.pt", "metrics.tsv", "evaluation.json", "predictions.tsv"):
        assert (out / name).is_file(), name
    for target in targets:
        assert (workdir / target).stat().st_size > 0, target
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["epochs_run"] == 2
    assert evaluation["test"]["n_images"] == 18
    assert sum(map(sum, evaluation["test"]["confusion_matrix"])) == 18
    comparison = pd.read_csv(workdir / "results" / "classifier" / "comparison.tsv", sep="\t")
    assert comparison["arch"].tolist() == ["resnet18"]
    assert comparison["test_accuracy"].iloc[0] == pytest.approx(evaluation["test_accuracy"])
    assert (workdir / "results" / "logs" / "train_classifier" / "resnet18.log").read_text().count("epoch ") >= 2


def test_pretrained_plan_fetches_weights_first(workdir):
    (workdir / "config.yaml").write_text("preset: tiny\nclassifier:\n  pretrained: imagenet\n")
    torch_home = workdir / "torch-home"
    result = _snakemake(workdir, "-n", "results/classifier/resnet18/best.pt", torch_home=torch_home)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "rule fetch_weights:" in result.stdout
    assert str(torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in result.stdout


def test_missing_weights_path_stops_before_jobs(workdir):
    absent = workdir / "absent.pth"
    (workdir / "config.yaml").write_text(f"preset: tiny\nclassifier:\n  pretrained: imagenet\n  weights_path: {absent}\n")
    result = _snakemake(workdir, "-n", "results/classifier/resnet18/best.pt", torch_home=workdir / "torch-home")
    assert result.returncode != 0
    assert "resnet18-f37072fd.pth" in result.stdout
    assert str(absent) in result.stdout


def test_weights_path_with_compare_rejected(workdir):
    config = "preset: tiny\nclassifier:\n  pretrained: imagenet\n  weights_path: /tmp/w.pth\n  compare: [resnet34]\n"
    (workdir / "config.yaml").write_text(config)
    result = _snakemake(workdir, "-n", "results/classifier/comparison.tsv", torch_home=workdir / "torch-home")
    assert result.returncode != 0
    assert "classifier.compare trains ['resnet18', 'resnet34']" in result.stdout
