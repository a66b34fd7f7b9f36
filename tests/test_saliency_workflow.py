"""The saliency rules under Snakemake, and the stage's steps on real product photos."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lookbook.data.images import decode_image, fit_square
from lookbook.labels import get_scheme
from test_saliency_pipeline import CLASSES, synthetic_products, write_upstream

SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SALIENCY_RULES = ["saliency", "saliency_examples", "saliency_class_average", "saliency_sanity", "saliency_plot"]
FIGURES = ["examples", "class_average", "focus", "sanity", "sanity_maps"]


@pytest.mark.e2e
def test_saliency_rules_produce_contract_files(repo_root, tmp_path):
    images, labels = synthetic_products(48, 32)
    write_upstream(tmp_path, images, labels, ids=np.arange(1000, 1048))
    shutil.copy(repo_root / "config.yaml", tmp_path / "config.yaml")
    # --allowed-rules treats the upstream files written above as source files, so
    # only this stage's rules run, whatever the data and classifier rules need.
    command = [
        SNAKEMAKE, "-s", repo_root / "Snakefile", "--directory", tmp_path, "--cores", "2",
        "saliency", "--config", "preset=tiny", "--allowed-rules", *SALIENCY_RULES,
    ]
    run = subprocess.run(command, capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-3000:]

    results = tmp_path / "results" / "saliency"
    with np.load(results / "class_average.npz") as average:
        assert average["maps"].shape == (len(CLASSES), 32, 32)
        assert average["counts"].sum() == 18
    with np.load(results / "examples.npz") as examples:
        assert examples["colour"].shape[1:] == (32, 32, 3)
    focus = pd.read_csv(results / "focus.tsv", sep="\t")
    assert focus["predicted_label"].tolist() == [*CLASSES, "all"]
    sanity = pd.read_csv(results / "sanity.tsv", sep="\t")
    assert set(sanity["method"]) == {"guided_backprop", "grad_cam"}
    assert sanity.loc[(sanity["step"] == 0) & (sanity["method"] == "guided_backprop"), "spearman_mean"].item() == 1.0
    for name in FIGURES:
        assert (tmp_path / "figures" / "saliency" / f"{name}.png").stat().st_size > 0
    for rule in SALIENCY_RULES[1:]:
        assert (tmp_path / "results" / "benchmarks" / rule / f"{rule}.tsv").is_file()
        assert (tmp_path / "results" / "logs" / rule / f"{rule}.log").is_file()


@pytest.mark.realdata
def test_saliency_steps_on_real_photos(fashion_sample, tmp_path):
    from lookbook.saliency.pipeline import compute_class_maps, load_inputs, run_sanity_check, select_sanity_rows

    # The first 8 photos of each class, decoded and padded to 64 px as the data stage does.
    scheme = get_scheme("gender_master")
    styles = pd.read_csv(fashion_sample / "styles.csv")
    styles["label"] = [scheme.assign(g, m)[0] for g, m in zip(styles["gender"], styles["masterCategory"])]
    styles = styles[styles["label"].notna() & styles["id"].map(lambda i: (fashion_sample / "images" / f"{i}.jpg").is_file())]
    chosen = styles.sort_values("id").groupby("label", sort=False).head(8).sort_values("id")
    images = np.stack([fit_square(decode_image(fashion_sample / "images" / f"{i}.jpg", 64).rgb, 64) for i in chosen["id"]])
    labels = np.array([CLASSES.index(name) for name in chosen["label"]])
    write_upstream(tmp_path, images, labels, ids=chosen["id"].to_numpy())

    classifier_dir = tmp_path / "results" / "classifier" / "resnet18"
    model, test = load_inputs(classifier_dir / "best.pt", classifier_dir / "predictions.tsv", tmp_path / "results" / "cache", 64, threads=1)
    arrays, per_image, table = compute_class_maps(model, test, batch_size=8, background_threshold=235)
    # Catalogue photos have a white margin: the product covers part of the image, not all.
    assert per_image["foreground_area"].between(0.01, 0.99).all()
    assert per_image["focus"].between(0, 1).all()
    assert arrays["counts"].sum() == len(test.ids)
    sanity, _ = run_sanity_check(model, test, select_sanity_rows(len(test.ids), 4), batch_size=4, seed=0)
    trained = sanity[sanity["step"] == 0].set_index("method")
    assert trained.loc["guided_backprop", "spearman_mean"] == 1.0
