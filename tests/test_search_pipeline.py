"""The search stage on real product photos: gallery index from an image cache built by
the data stage's writer, evaluation against raw pixels, and ``lookbook similar``.

The classifier is an untrained resnet18 with a fixed seed: these tests check that a
photo is embedded exactly like its cached copy and that results are well-formed, not
that the features are good.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.classifier.models import build_model, model_meta
from lookbook.classifier.train import save_best
from lookbook.data.cache import write_split_caches
from lookbook.data.images import decode_image, fit_square
from lookbook.labels import get_scheme
from lookbook.search import cli as search_cli
from lookbook.search.index import load_index, save_index
from lookbook.search.metrics import METRIC_COLUMNS
from lookbook.search.pipeline import (
    EXAMPLE_COLUMNS,
    build_network_index,
    choose_examples,
    embed_splits,
    evaluate,
    example_neighbours,
    pixel_splits,
    read_metadata,
)

pytestmark = pytest.mark.realdata

SIZE = 32  # classifier side, as in the tiny preset
DECODE_SIZE = 64  # the tiny preset's largest cache side, which the cache decodes for
SPLIT_OF_ROW = ["train"] * 6 + ["val", "test"]  # 75 / 12.5 / 12.5 per block of 8 rows


@pytest.fixture(scope="module")
def stage(fashion_sample, tmp_path_factory):
    """A workdir with a 64-image cache, styles_clean.tsv, best.pt and the saved index."""
    root = tmp_path_factory.mktemp("search")
    scheme = get_scheme("gender_master")
    styles = pd.read_csv(fashion_sample / "styles.csv", dtype=str, keep_default_na=False)
    styles["id"] = styles["id"].astype(np.int64)
    styles = styles[styles["gender"].isin(["Men", "Women", "Boys", "Girls"])].sort_values("id")
    styles = styles[[(fashion_sample / "images" / f"{i}.jpg").is_file() for i in styles["id"]]].head(64)
    styles["label"] = [scheme.assign(g, m)[0] for g, m in zip(styles["gender"], styles["masterCategory"])]
    styles = styles.reset_index(drop=True)

    images = np.stack(
        [
            fit_square(decode_image(fashion_sample / "images" / f"{i}.jpg", target=DECODE_SIZE).rgb, SIZE)
            for i in styles["id"]
        ]
    )
    np.save(root / "all.npy", images)
    manifest = styles[["id", "label"]].assign(split=[SPLIT_OF_ROW[row % 8] for row in range(len(styles))])
    write_split_caches(
        root / "all.npy", styles[["id"]], manifest, scheme.classes, root / "cache" / str(SIZE), {"resize": "pad"}
    )
    styles.to_csv(root / "styles_clean.tsv", sep="\t", index=False)

    torch.manual_seed(0)
    model = build_model("resnet18", len(scheme.classes))
    model_path = root / "classifier" / "best.pt"
    save_best(model_path, model, model_meta("resnet18", list(scheme.classes), SIZE, {"cache": {"resize": "pad"}}, 1))
    model.eval()
    meta = model_meta("resnet18", list(scheme.classes), SIZE, {"cache": {"resize": "pad"}}, 1)

    index = build_network_index(
        model, meta, model_path, root / "cache", SIZE, ["train", "val"], read_metadata(root / "styles_clean.tsv"),
        fashion_sample / "images", batch_size=16, device=torch.device("cpu"),
    )
    index.info["decode_size"] = DECODE_SIZE
    save_index(index, root / "search" / "index.npz")
    return {"root": root, "styles": styles, "manifest": manifest, "model": model, "meta": meta, "images": fashion_sample / "images"}


def run_similar(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``lookbook similar`` in-process; returns (exit status, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="lookbook")
    search_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["similar", *argv])
    status = args.func(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def gallery_ids(stage) -> list[int]:
    """Ids of the gallery in index order: the train split, then the validation split."""
    manifest = stage["manifest"]
    return [*manifest.query("split == 'train'")["id"], *manifest.query("split == 'val'")["id"]]


def test_index_covers_gallery_splits(stage):
    index = load_index(stage["root"] / "search" / "index.npz")
    assert index.ids.tolist() == gallery_ids(stage)
    assert index.dim == 512
    assert index.info["arch"] == "resnet18"


def test_similar_gallery_photo_finds_itself_first(stage, capsys):
    query_id = gallery_ids(stage)[10]
    status, out, _ = run_similar(
        capsys, str(stage["images"] / f"{query_id}.jpg"), "--index", str(stage["root"] / "search" / "index.npz"),
        "-k", "5", "--device", "cpu",
    )
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert status == 0
    assert table["id"].iloc[0] == query_id
    assert table["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-4)


def test_similar_results_sorted(stage, capsys):
    query_id = stage["manifest"].query("split == 'test'")["id"].iloc[0]
    status, out, _ = run_similar(
        capsys, str(stage["images"] / f"{query_id}.jpg"), "--index", str(stage["root"] / "search" / "index.npz"),
        "-k", "20", "--device", "cpu", "--format", "json",
    )
    results = json.loads(out)["results"]
    similarities = [row["similarity"] for row in results]
    assert status == 0
    assert similarities == sorted(similarities, reverse=True)
    assert [row["rank"] for row in results] == list(range(1, 21))
    assert set(results[0]) == set(search_cli.OUTPUT_COLUMNS)


def test_similar_k_larger_than_gallery(stage, capsys):
    query_id = gallery_ids(stage)[0]
    status, out, err = run_similar(
        capsys, str(stage["images"] / f"{query_id}.jpg"), "--index", str(stage["root"] / "search" / "index.npz"),
        "-k", "1000", "--device", "cpu",
    )
    table = pd.read_csv(pd.io.common.StringIO(out))
    assert status == 0
    assert len(table) == len(gallery_ids(stage))
    assert sorted(table["id"]) == sorted(gallery_ids(stage))


def test_similar_missing_query_path(stage, capsys, caplog):
    missing = stage["root"] / "no-such-photo.jpg"
    status, out, _ = run_similar(capsys, str(missing), "--index", str(stage["root"] / "search" / "index.npz"))
    assert status == 2
    assert out == ""
    assert f"query image cannot be read (missing_image): {missing} not found" in caplog.text


def test_similar_non_image_query(stage, capsys, caplog):
    text_file = stage["root"] / "notes.jpg"
    text_file.write_text("not a photo\n")
    status, _, _ = run_similar(capsys, str(text_file), "--index", str(stage["root"] / "search" / "index.npz"))
    assert status == 2
    assert "(not_an_image)" in caplog.text


def test_similar_missing_index(stage, capsys, caplog):
    query = stage["images"] / f"{gallery_ids(stage)[0]}.jpg"
    status, _, _ = run_similar(capsys, str(query), "--index", str(stage["root"] / "nowhere" / "index.npz"))
    assert status == 2
    assert "index file not found" in caplog.text


def test_similar_rejects_changed_model(stage, capsys, caplog, tmp_path):
    # A copy of the index whose recorded checkpoint has other weights.
    copy = tmp_path / "results"
    (copy / "search").mkdir(parents=True)
    (copy / "classifier").mkdir()
    for name in ("index.npz", "index.tsv"):
        (copy / "search" / name).write_bytes((stage["root"] / "search" / name).read_bytes())
    torch.manual_seed(1)
    save_best(copy / "classifier" / "best.pt", build_model("resnet18", 6), stage["meta"])
    query = stage["images"] / f"{gallery_ids(stage)[0]}.jpg"
    index_path = load_index(stage["root"] / "search" / "index.npz").info["model"]
    # The stored model path is relative to the index, so the copy points at its own best.pt.
    assert Path(index_path).name == "best.pt"
    status, _, _ = run_similar(capsys, str(query), "--index", str(copy / "search" / "index.npz"), "--device", "cpu")
    assert status == 2
    assert "changed since the index was built" in caplog.text


def test_similar_writes_contact_sheet(stage, capsys):
    query = stage["images"] / f"{gallery_ids(stage)[3]}.jpg"
    sheet = stage["root"] / "sheet.png"
    status, _, _ = run_similar(
        capsys, str(query), "--index", str(stage["root"] / "search" / "index.npz"), "-k", "4",
        "--device", "cpu", "--sheet", str(sheet),
    )
    assert status == 0
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lookbook_command_prints_csv(stage):
    """The installed ``lookbook`` command, run as a user would."""
    query_id = gallery_ids(stage)[5]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "lookbook"), "similar", "--index", str(stage["root"] / "search" / "index.npz"),
            str(stage["images"] / f"{query_id}.jpg"), "-k", "3", "--device", "cpu",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rank,id,similarity,articleType,baseColour,label,productDisplayName"
    assert lines[1].startswith(f"1,{query_id},1.0000,")
    assert len(lines) == 4


def test_evaluate_compares_network_with_pixels(stage):
    root = stage["root"]
    index = load_index(root / "search" / "index.npz")
    metadata = read_metadata(root / "styles_clean.tsv")
    query_ids, features = embed_splits(stage["model"], stage["meta"], root / "cache", SIZE, ["test"], 16, torch.device("cpu"))
    metrics, embeddings = evaluate(
        index, query_ids, features,
        pixel_splits(root / "cache", SIZE, ["train", "val"], 8), pixel_splits(root / "cache", SIZE, ["test"], 8),
        metadata, k=5,
    )
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["method"].tolist() == ["network"] * 3 + ["pixels"] * 3
    assert metrics["precision_at_k"].between(0, 1).all()
    assert metrics["mean_average_precision"].between(0, 1).all()
    assert (metrics["gallery_size"] == len(index)).all()
    assert metrics.loc[metrics["criterion"] == "label", "queries"].tolist() == [len(query_ids)] * 2

    labels = metadata.set_index("id").loc[query_ids, "label"].reset_index(drop=True)
    chosen = choose_examples(query_ids, labels, 3, seed=0)
    examples = example_neighbours(index, query_ids, embeddings, metadata, chosen, 4)
    assert list(examples.columns) == EXAMPLE_COLUMNS
    assert len(examples) == 3 * 2 * 4
    assert examples.groupby(["query_id", "method"])["similarity"].apply(lambda s: s.is_monotonic_decreasing).all()
