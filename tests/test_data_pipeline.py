"""The data stage's steps on small hand-made data sets: summary, errors and split caches."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lookbook.data.pipeline import build_split_caches, clean_and_decode, make_splits
from lookbook.data.styles import COLUMNS

SHARES = {"train": 0.75, "val": 0.10, "test": 0.15}


def make_dataset(root, rows, images):
    """Write styles.csv from ``rows`` (lists of ten strings) and a JPEG per id in ``images``."""
    (root / "images").mkdir(parents=True)
    lines = [",".join(COLUMNS), *(",".join(row) for row in rows)]
    (root / "styles.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for product_id in images:
        Image.new("RGB", (60, 80), (10, 10, 10)).save(root / "images" / f"{product_id}.jpg")


def outputs(root, sizes):
    out = {name: root / "out" / f"{name}.tsv" for name in ("clean", "exclusions", "counts", "audit", "ids")}
    out["summary"] = root / "out" / "summary.json"
    out.update({f"array_{size}": root / "cache" / str(size) / "all.npy" for size in sizes})
    return out


def row(product_id, gender="Men", master="Apparel", name="Brand Men Shirt"):
    return [str(product_id), gender, master, "Topwear", "Shirts", "Blue", "Fall", "2012.0", "Casual", name]


def test_clean_and_decode_summary(tmp_path):
    rows = [row(i) for i in range(1, 21)] + [row(21, gender="Unisex"), row(22)]
    make_dataset(tmp_path, rows, images=range(1, 22))
    summary = clean_and_decode(tmp_path, "gender_master", [16], "pad", outputs(tmp_path, [16]), progress=False)
    clean = pd.read_csv(tmp_path / "out" / "clean.tsv", sep="\t")
    assert summary["rows"]["kept"] == 20
    assert summary["exclusions"] == {"missing_image": 1, "unisex": 1}
    assert clean["year"].tolist() == [2012] * 20
    assert clean.columns.tolist() == [*COLUMNS, "label"]


def test_clean_and_decode_no_usable_rows(tmp_path):
    make_dataset(tmp_path, [row(1, gender="Unisex")], images=[1])
    with pytest.raises(ValueError, match="named <id>.jpg"):
        clean_and_decode(tmp_path, "gender_master", [16], "pad", outputs(tmp_path, [16]), progress=False)


def test_stage_steps_build_cache(tmp_path):
    rows = [row(i, master="Footwear" if i % 2 else "Apparel") for i in range(1, 41)]
    make_dataset(tmp_path, rows, images=range(1, 41))
    out = outputs(tmp_path, [16])
    clean_and_decode(tmp_path, "gender_master", [16], "pad", out, threads=2, progress=False)
    split_out = {name: tmp_path / f"{name}.out" for name in ("manifest", "manifest_json", "class_counts")}
    manifest = make_splits(out["clean"], "gender_master", SHARES, 1, split_out)
    counts = build_split_caches(out["array_16"], out["ids"], split_out["manifest"], split_out["manifest_json"], 16, "pad", tmp_path / "cache" / "16")
    meta = json.loads(split_out["manifest_json"].read_text())
    assert counts == {"train": 30, "val": 4, "test": 6}
    assert meta["counts"]["per_split"] == counts
    assert meta["counts"]["per_class"]["Men Other"] == 20
    assert len(meta["sha256"]) == 64
    assert np.load(tmp_path / "cache" / "16" / "train.npy").shape == (30, 16, 16, 3)
    assert manifest["id"].tolist() == list(range(1, 41))
