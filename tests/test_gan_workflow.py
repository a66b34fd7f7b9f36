"""The DCGAN rules in the real workflow, run in a temporary directory with the tiny preset."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from e2e_helpers import planned_rules, require_success, run_snakemake

SUBSETS = ["all", "men-apparel", "men-accessories", "men-other", "women-apparel", "women-accessories", "women-other"]


def test_dry_run_plans_one_training_job_per_subset(tmp_path):
    result = run_snakemake(tmp_path, "-n", "--cores", "1", "--config", "preset=tiny", "--", "gan", timeout_s=300)
    require_success(result, "snakemake -n gan")
    output = result.stdout + result.stderr
    assert {"gan_train", "gan_quality", "gan_real_features", "gan_summary"} <= planned_rules(result)
    assert re.search(r"^gan_train\s+7$", output, re.M)
    assert re.search(r"^gan_plot_neighbours\s+7$", output, re.M)


def test_dry_run_rejects_gan_size_128(tmp_path):
    (tmp_path / "config.yaml").write_text("cache:\n  gan_size: 128\n")
    result = run_snakemake(tmp_path, "-n", "--cores", "1", "--config", "preset=tiny", "--", "gan", timeout_s=300)
    assert result.returncode != 0
    assert "gan_size" in result.stdout + result.stderr


@pytest.mark.e2e
def test_workflow_trains_and_resumes(tmp_path):
    """Train two subsets (about a minute on one idle core), then rerun one with more epochs."""
    targets = ["results/gan/all/status.json", "results/gan/women-other/status.json"]
    first = run_snakemake(tmp_path, "--cores", "1", "--config", "preset=tiny", "--", *targets, timeout_s=900)
    require_success(first, "snakemake gan_train")
    status = json.loads((tmp_path / "results/gan/all/status.json").read_text())
    assert status["status"] == "trained"
    assert status["epochs_done"] == 1
    assert np.load(tmp_path / "results/gan/all/samples.npy").shape[1:] == (64, 64, 3)
    assert (tmp_path / "results/gan/all/grids/epoch_001.png").is_file()
    assert (tmp_path / "results/logs/gan_train/all.log").is_file()
    assert (tmp_path / "results/benchmarks/gan_train/all.tsv").is_file()

    # Raising the epochs in config.yaml reruns the job, which continues from the kept checkpoint.
    with open(tmp_path / "config.yaml", "a", encoding="utf-8") as handle:
        handle.write("\ngan:\n  epochs: 2\n")
    second = run_snakemake(tmp_path, "--cores", "1", "--config", "preset=tiny", "--", "results/gan/all/status.json", timeout_s=900)
    require_success(second, "snakemake gan_train with 2 epochs")
    status = json.loads((tmp_path / "results/gan/all/status.json").read_text())
    losses = pd.read_csv(tmp_path / "results/gan/all/losses.tsv", sep="\t")
    assert status["resumed_from_epoch"] == 1
    assert status["epochs_done"] == 2
    assert losses["epoch"].tolist().count(1) == losses["epoch"].tolist().count(2)
    assert sorted(p.name for p in (tmp_path / "results/gan/all/grids").glob("epoch_*.png")) == ["epoch_001.png", "epoch_002.png"]
