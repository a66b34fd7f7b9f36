"""The demo dataset: determinism, planted defects found by the cleaning, learnable classes."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
from PIL import Image

from lookbook import cli
from lookbook.data.cache import load_split
from lookbook.data.demo import CATALOGUE, IMAGE_HEIGHT, IMAGE_WIDTH, write_demo_dataset
from lookbook.data.pipeline import build_split_caches, clean_and_decode, make_splits
from lookbook.data.styles import COLUMNS, parse_styles

N_IMAGES = 300
# Planted defect kind -> exclusion reason the cleaning step must give that id.
EXPECTED_REASONS = {
    "missing_image": "missing_image",
    "empty_file": "empty_file",
    "truncated": "truncated",
    "not_an_image": "not_an_image",
    "missing_gender": "missing_label_value",
    "short_row": "malformed_row",
    "duplicate_id": "duplicate_id",
    "no_metadata_row": "no_metadata_row",
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo dataset, cleaned, split and cached at 32 px."""
    root = tmp_path_factory.mktemp("demo")
    data_dir = root / "data"
    defects = write_demo_dataset(data_dir, n_images=N_IMAGES, seed=7)
    out = {name: root / "results" / f"{name}.tsv" for name in ("clean", "exclusions", "counts", "audit", "ids")}
    out["summary"] = root / "results" / "summary.json"
    out["array_32"] = root / "cache" / "32" / "all.npy"
    summary = clean_and_decode(data_dir, "gender_master", [32], "pad", out, threads=2, progress=False)
    split_out = {"manifest": root / "manifest.tsv", "manifest_json": root / "manifest.json", "class_counts": root / "class_counts.tsv"}
    make_splits(out["clean"], "gender_master", {"train": 0.75, "val": 0.10, "test": 0.15}, 2024, split_out)
    build_split_caches(out["array_32"], out["ids"], split_out["manifest"], split_out["manifest_json"], 32, "pad", root / "cache" / "32")
    return {"root": root, "data_dir": data_dir, "defects": defects, "summary": summary, "out": out}


def test_demo_same_bytes_for_seed(tmp_path):
    first = tmp_path / "a"
    second = tmp_path / "b"
    write_demo_dataset(first, n_images=80, seed=3)
    write_demo_dataset(second, n_images=80, seed=3)
    names = sorted(p.name for p in (first / "images").iterdir())
    assert (first / "styles.csv").read_bytes() == (second / "styles.csv").read_bytes()
    assert names == sorted(p.name for p in (second / "images").iterdir())
    for name in names:
        assert (first / "images" / name).read_bytes() == (second / "images" / name).read_bytes(), name


def test_demo_differs_between_seeds(tmp_path):
    write_demo_dataset(tmp_path / "a", n_images=80, seed=3)
    write_demo_dataset(tmp_path / "b", n_images=80, seed=4)
    assert (tmp_path / "a" / "styles.csv").read_bytes() != (tmp_path / "b" / "styles.csv").read_bytes()


def test_demo_rejects_existing_dataset(tmp_path):
    write_demo_dataset(tmp_path, n_images=60, seed=1)
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_demo_dataset(tmp_path, n_images=60, seed=1)


def test_demo_rejects_too_few_images(tmp_path):
    with pytest.raises(ValueError, match="at least 60"):
        write_demo_dataset(tmp_path, n_images=10)


def test_demo_images_kaggle_layout(demo_run):
    images = demo_run["data_dir"] / "images"
    product_id = next(row["id"] for row in csv.DictReader(open(demo_run["data_dir"] / "styles.csv", encoding="utf-8")) if row["gender"] == "Men")
    image = Image.open(images / f"{product_id}.jpg")
    assert image.format == "JPEG"
    assert image.size == (IMAGE_WIDTH, IMAGE_HEIGHT)


def test_demo_styles_has_raw_comma_rows(demo_run):
    lines = (demo_run["data_dir"] / "styles.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    field_counts = [len(next(csv.reader([line]))) for line in lines[1:]]
    assert sum(count > 10 for count in field_counts) == 3
    assert sum(count < 10 for count in field_counts) == 1


def test_demo_names_need_escaping(demo_run):
    names = parse_styles(demo_run["data_dir"] / "styles.csv").rows["productDisplayName"].dropna()
    for character in "&%_#":
        assert names.str.contains(character, regex=False).any(), character


def test_demo_defects_found_by_cleaning(demo_run):
    exclusions = {}
    with open(demo_run["out"]["exclusions"], encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            exclusions.setdefault(int(row["id"]), row["reason"])
    for kind, reason in EXPECTED_REASONS.items():
        for product_id in demo_run["defects"][kind]:
            assert exclusions.get(product_id) == reason, (kind, product_id)


def test_demo_convertible_images_kept(demo_run):
    clean_ids = set(np.loadtxt(demo_run["out"]["clean"], delimiter="\t", skiprows=1, usecols=0, dtype=np.int64).tolist())
    for kind in ("grayscale", "cmyk", "rgba", "palette", "unquoted_comma", "year_with_decimal", "empty_optional"):
        for product_id in demo_run["defects"][kind]:
            assert product_id in clean_ids, (kind, product_id)
    assert demo_run["summary"]["converted_to_rgb"] == {"L": 2, "CMYK": 2, "P": 1, "RGBA": 1}


def test_demo_unisex_rows_excluded(demo_run):
    assert demo_run["summary"]["exclusions"]["unisex"] > 0


def test_demo_every_class_in_every_split(demo_run):
    meta = json.loads((demo_run["root"] / "manifest.json").read_text())
    counts = np.loadtxt(demo_run["root"] / "class_counts.tsv", delimiter="\t", skiprows=1, usecols=2, dtype=int)
    assert len(meta["classes"]) == 6
    assert counts.min() > 0


def test_demo_catalogue_draws_every_article():
    rng = np.random.default_rng(0)
    from lookbook.data.demo import draw_product

    for article in CATALOGUE:
        for gender in article.draw:
            row = {"articleType": article.article_type, "_drawn_gender": gender, "baseColour": "Red", "gender": gender}
            pixels = np.asarray(draw_product(row, rng))
            assert (pixels < 200).any(axis=-1).mean() > 0.01, (article.article_type, gender)


def test_demo_classes_linearly_learnable(demo_run):
    # A linear model on the 32 px pixels already separates the six classes.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    train = load_split(demo_run["root"] / "cache", 32, "train")
    test = load_split(demo_run["root"] / "cache", 32, "test")
    features = train.images.reshape(len(train.ids), -1) / 255.0
    # One BLAS thread: these matrices are small, and on busy cores more threads slow lbfgs down.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=200).fit(features, train.labels)
    accuracy = (model.predict(test.images.reshape(len(test.ids), -1) / 255.0) == test.labels).mean()
    assert accuracy >= 0.8


def test_cli_demo_data_writes_dataset(tmp_path, capsys):
    status = cli.main(["demo-data", str(tmp_path / "demo"), "--n-images", "60", "--seed", "2"])
    assert status == 0
    assert (tmp_path / "demo" / "styles.csv").is_file()
    assert len(list((tmp_path / "demo" / "images").iterdir())) == 60
    assert "wrote 60 products" in capsys.readouterr().out


def test_cli_demo_data_existing_dir_fails(tmp_path):
    cli.main(["demo-data", str(tmp_path), "--n-images", "60"])
    assert cli.main(["demo-data", str(tmp_path), "--n-images", "60"]) == 2
