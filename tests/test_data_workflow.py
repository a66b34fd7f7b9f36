"""The data stage run by Snakemake, on the generated demo and on a slice of real photos."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lookbook.data.cache import load_split

REAL_SLICE = 300


def run_snakemake(repo_root: Path, workdir: Path, *config: str) -> subprocess.CompletedProcess:
    """Run the ``data`` target in ``workdir``, which gets its own copy of config.yaml."""
    shutil.copy(repo_root / "config.yaml", workdir / "config.yaml")
    command = [
        str(Path(sys.executable).with_name("snakemake")),
        "-s", str(repo_root / "Snakefile"),
        "--cores", "2",
        "data",
        "--config", *config,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


@pytest.mark.e2e
def test_workflow_data_on_demo(repo_root, tmp_path):
    run_snakemake(repo_root, tmp_path, "preset=tiny")
    results = tmp_path / "results"
    counts = pd.read_csv(results / "data" / "exclusion_counts.tsv", sep="\t").set_index("reason")["count"]
    manifest = pd.read_csv(results / "data" / "manifest.tsv", sep="\t")
    meta = json.loads((results / "data" / "manifest.json").read_text())
    train = load_split(results / "cache", 32, "train")
    gan_test = load_split(results / "cache", 64, "test")

    assert (results / "demo-data" / "styles.csv").is_file()
    for reason in ("unisex", "missing_image", "empty_file", "truncated", "not_an_image", "malformed_row", "no_metadata_row"):
        assert counts.get(reason, 0) >= 1, reason
    assert set(manifest["split"]) == {"train", "val", "test"}
    assert meta["counts"]["total"] == len(manifest)
    assert train.images.shape[1:] == (32, 32, 3)
    assert gan_test.images.shape[1:] == (64, 64, 3)
    assert len(train.ids) == (manifest["split"] == "train").sum()
    assert (tmp_path / "figures" / "data" / "class_distribution.png").stat().st_size > 0
    assert (tmp_path / "figures" / "data" / "class_distribution_splits.png").stat().st_size > 0
    # all.npy is temporary: the split arrays hold the same rows.
    assert not (results / "cache" / "32" / "all.npy").exists()
    assert (results / "logs" / "data_decode" / "data_decode.log").read_text().count("decoded") == 1


def real_slice(source: Path, target: Path, count: int) -> pd.DataFrame:
    """The first ``count`` rows of the real styles.csv by id, with their images linked in."""
    rows = pd.read_csv(source / "styles.csv", dtype=str, keep_default_na=False)
    rows = rows.assign(order=rows["id"].astype(int)).sort_values("order").head(count).drop(columns="order")
    (target / "images").mkdir(parents=True)
    rows.to_csv(target / "styles.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    for product_id in rows["id"]:
        image = source / "images" / f"{product_id}.jpg"
        if image.exists():
            (target / "images" / image.name).symlink_to(image)
    return rows


@pytest.mark.e2e
@pytest.mark.realdata
def test_workflow_data_on_real_slice(repo_root, fashion_sample, tmp_path):
    data_dir = tmp_path / "data"
    rows = real_slice(fashion_sample, data_dir, REAL_SLICE)
    workdir = tmp_path / "run"
    workdir.mkdir()
    run_snakemake(repo_root, workdir, f"data_dir={data_dir}", "preset=tiny")
    results = workdir / "results"

    clean = pd.read_csv(results / "data" / "styles_clean.tsv", sep="\t")
    exclusions = pd.read_csv(results / "data" / "exclusions.tsv", sep="\t")
    summary = json.loads((results / "data" / "summary.json").read_text())
    audit = pd.read_csv(results / "data" / "image_audit.tsv", sep="\t")
    train = load_split(results / "cache", 32, "train")

    missing = {int(i) for i in rows["id"] if not (data_dir / "images" / f"{i}.jpg").exists()}
    unisex = int((rows["gender"] == "Unisex").sum())
    assert not (workdir / "results" / "demo-data").exists()
    assert len(clean) + len(exclusions) == REAL_SLICE
    assert (exclusions["reason"] == "unisex").sum() == unisex
    assert set(exclusions.loc[exclusions["reason"] == "missing_image", "id"]) == missing
    assert summary["rows"]["kept"] == len(clean)
    assert audit["ok"].all()
    assert (audit["width"] == 224).all()
    assert train.images.dtype == np.uint8
    # Real photos are shot on white: the padded corners of the cache stay white.
    assert train.images[:, 0, 0].min() >= 200
