"""The search rules in the real workflow: tiny preset on the generated demo data, run
in a temporary directory, then the README's ``lookbook similar`` example on its index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lookbook.search.index import load_index

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
TARGETS = ["results/search/metrics.tsv", "figures/search/examples.png", "figures/search/metrics.png"]


@pytest.fixture(scope="module")
def workdir(repo_root, tmp_path_factory):
    """A workdir where the tiny preset has built the search outputs (about a minute on 1 core)."""
    root = tmp_path_factory.mktemp("search-workflow")
    shutil.copy(repo_root / "config.yaml", root / "config.yaml")
    result = subprocess.run(
        [BIN / "snakemake", "-s", repo_root / "Snakefile", "--cores", "1", "--config", "preset=tiny", "--", *TARGETS],
        cwd=root, capture_output=True, text=True, timeout=600, env={"OMP_NUM_THREADS": "1", "PATH": str(BIN) + ":/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


def test_workflow_index_covers_gallery(workdir):
    index = load_index(workdir / "results" / "search" / "index.npz")
    cache_ids = [
        *pd.read_csv(workdir / "results/cache/32/train.ids.tsv", sep="\t")["id"],
        *pd.read_csv(workdir / "results/cache/32/val.ids.tsv", sep="\t")["id"],
    ]
    assert index.ids.tolist() == cache_ids
    assert index.info["image_size"] == 32
    assert index.info["decode_size"] == 64


def test_workflow_metrics_table(workdir):
    metrics = pd.read_csv(workdir / "results" / "search" / "metrics.tsv", sep="\t")
    test_count = len(pd.read_csv(workdir / "results/cache/32/test.ids.tsv", sep="\t"))
    assert metrics["method"].tolist() == ["network"] * 3 + ["pixels"] * 3
    assert metrics["criterion"].tolist() == ["label", "articleType", "baseColour"] * 2
    assert metrics.loc[metrics["criterion"] == "label", "queries"].tolist() == [test_count] * 2
    assert metrics["mean_average_precision"].between(0, 1).all()


def test_workflow_figures_are_png(workdir):
    for name in ("examples.png", "metrics.png"):
        assert (workdir / "figures" / "search" / name).read_bytes()[:4] == b"\x89PNG"


def test_workflow_rules_log_and_benchmark(workdir):
    for rule in ("search_index", "search_evaluate", "search_plot"):
        assert (workdir / "results" / "logs" / rule / f"{rule}.log").stat().st_size > 0
        assert (workdir / "results" / "benchmarks" / rule / f"{rule}.tsv").is_file()


def test_readme_similar_example(workdir):
    """``lookbook similar --index results/search/index.npz photo.jpg -k 8 --sheet similar.png``."""
    query_id = int(pd.read_csv(workdir / "results/cache/32/train.ids.tsv", sep="\t")["id"].iloc[0])
    photo = workdir / "photo.jpg"
    shutil.copy(workdir / "results" / "demo-data" / "images" / f"{query_id}.jpg", photo)
    result = subprocess.run(
        [BIN / "lookbook", "similar", "--index", "results/search/index.npz", "photo.jpg", "-k", "8", "--sheet", "similar.png"],
        cwd=workdir, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 9
    assert rows[1].startswith(f"1,{query_id},1.0000,")
    assert (workdir / "similar.png").read_bytes()[:4] == b"\x89PNG"
