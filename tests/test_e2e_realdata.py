"""The whole workflow on a slice of the real product photos at the smallest settings."""

from __future__ import annotations

import pandas as pd
import pytest
from e2e_helpers import require_success, run_snakemake

from lookbook.io import read_json

pytestmark = [pytest.mark.e2e, pytest.mark.realdata]

# Rows per (gender, masterCategory) group: enough that every class has train, validation
# and test images and at least gan.min_class_images (8 at the tiny preset) to train on.
ROWS_PER_GROUP = 30
MISSING_IMAGE_ID = 12347  # a real row whose image is missing from the data set itself


@pytest.fixture(scope="session")
def real_slice(fashion_sample, tmp_path_factory):
    """A Kaggle-layout directory: a slice of styles.csv and symbolic links to its images."""
    data_dir = tmp_path_factory.mktemp("fashion-slice")
    styles = pd.read_csv(fashion_sample / "styles.csv", dtype=str, keep_default_na=False)
    groups = styles.groupby(["gender", "masterCategory"], sort=True, group_keys=False)
    chosen = groups.head(ROWS_PER_GROUP)
    chosen = pd.concat([chosen, styles[styles["id"] == str(MISSING_IMAGE_ID)]]).drop_duplicates("id")
    chosen.to_csv(data_dir / "styles.csv", index=False)
    (data_dir / "images").mkdir()
    for product_id in chosen["id"]:
        image = fashion_sample / "images" / f"{product_id}.jpg"
        if image.is_file():
            (data_dir / "images" / f"{product_id}.jpg").symlink_to(image)
    return data_dir, chosen


@pytest.fixture(scope="session")
def real_run(real_slice, tmp_path_factory):
    data_dir, _ = real_slice
    workdir = tmp_path_factory.mktemp("e2e-real")
    result = run_snakemake(workdir, "--cores", "2", "--config", "preset=tiny", f"data_dir={data_dir}")
    (workdir / "snakemake.out").write_text(result.stdout + result.stderr)
    require_success(result, f"snakemake --config preset=tiny data_dir={data_dir}")
    return workdir


def test_real_run_writes_reports(real_run):
    assert (real_run / "report" / "build" / "report.html").is_file()
    assert (real_run / "report" / "build" / "report.tex").is_file()


def test_real_report_names_data_directory(real_run, real_slice):
    data_dir, _ = real_slice
    html = (real_run / "report" / "build" / "report.html").read_text(encoding="utf-8")
    assert "real product photos" in html
    assert str(data_dir) in html


def test_real_report_counts_exclusions(real_run, real_slice):
    _, chosen = real_slice
    context = read_json(real_run / "results" / "report" / "context.json")
    unisex = int((chosen["gender"] == "Unisex").sum())
    assert context["data"]["excluded_total"] >= unisex + 1
    assert context["data"]["images"] + context["data"]["excluded_total"] >= len(chosen)


def test_real_report_still_flags_scale(real_run):
    context = read_json(real_run / "results" / "report" / "context.json")
    assert any("resnet18, not resnet152" in line for line in context["differences"])
