"""``lookbook predict`` and test-split evaluation on real product photos and known arrays."""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.classifier import cli
from lookbook.classifier.evaluate import classification_metrics, predict_probabilities, predictions_table
from lookbook.classifier.models import build_model, model_meta
from lookbook.classifier.predict import load_photo, predict_photos
from lookbook.classifier.train import save_best
from lookbook.data.images import decode_image, fit_square

CLASSES = ["Men Apparel", "Men Accessories", "Men Other", "Women Apparel", "Women Accessories", "Women Other"]
SAMPLE_IDS = [10000, 10001, 10002, 10003]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A best.pt with a randomly initialised resnet18 at 48 px; prediction does not depend on training."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "best.pt"
    meta = model_meta("resnet18", CLASSES, 48, {"cache": {"resize": "pad"}}, epoch=1)
    save_best(path, build_model("resnet18", len(CLASSES)).eval(), meta)
    return path


@pytest.fixture
def photos(fashion_sample, tmp_path):
    """Real product photos that exist in the sample, copied so that the test may add broken files."""
    paths = []
    for product_id in SAMPLE_IDS:
        source = fashion_sample / "images" / f"{product_id}.jpg"
        if source.is_file():
            paths.append(shutil.copy(source, tmp_path / source.name))
    if len(paths) < 2:
        pytest.skip(f"fewer than 2 of the photos {SAMPLE_IDS} are in {fashion_sample / 'images'}")
    return [str(path) for path in paths]


def _run_cli(capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["predict", *argv])
    status = args.func(args)
    return status, capsys.readouterr().out


@pytest.mark.realdata
def test_load_photo_matches_cache_preprocessing(photos, model_file):
    from lookbook.classifier.models import load_trained

    _, meta = load_trained(model_file)
    expected = fit_square(decode_image(photos[0], 48, "pad").rgb, 48, "pad")
    assert np.array_equal(load_photo(photos[0], meta), expected)


@pytest.mark.realdata
def test_predict_csv_one_row_per_image(photos, model_file, capsys):
    status, output = _run_cli(capsys, "--model", str(model_file), "--device", "cpu", *photos)
    table = pd.read_csv(pd.io.common.StringIO(output), keep_default_na=False)
    assert status == 0
    assert list(table.columns) == ["path", "predicted_class", "probability", "error"]
    assert table["path"].tolist() == photos
    assert set(table["predicted_class"]) <= set(CLASSES)
    assert ((table["probability"] > 0) & (table["probability"] <= 1)).all()
    assert (table["error"] == "").all()


@pytest.mark.realdata
def test_predict_probabilities_equal_evaluation(photos, model_file):
    from lookbook.classifier.models import load_trained

    model, meta = load_trained(model_file)
    rows = predict_photos(model, meta, photos)
    cached = np.stack([fit_square(decode_image(path, 48).rgb, 48) for path in photos])
    probabilities = predict_probabilities(model, cached, meta)
    assert [row["probability"] for row in rows] == pytest.approx(probabilities.max(axis=1).tolist(), abs=1e-6)


@pytest.mark.realdata
def test_predict_unreadable_image_gets_error_row(photos, model_file, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    missing = tmp_path / "missing.jpg"
    argv = ["--model", str(model_file), "--device", "cpu", "--format", "json", photos[0], str(broken), str(missing), photos[1]]
    status, output = _run_cli(capsys, *argv)
    rows = json.loads(output)
    assert status == 1
    assert [row["path"] for row in rows] == [photos[0], str(broken), str(missing), photos[1]]
    assert rows[0]["predicted_class"] in CLASSES
    assert rows[1]["error"].startswith("not_an_image")
    assert rows[1]["probability"] is None
    assert rows[2]["error"].startswith("missing_image")
    assert rows[3]["predicted_class"] in CLASSES


def test_predict_missing_model_exits_2(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["predict", "--model", str(tmp_path / "absent.pt"), "photo.jpg"])
    assert args.func(args) == 2
    assert "not found" in capsys.readouterr().err


def test_classification_metrics_known_values():
    labels = np.array([0, 0, 1, 1, 2])
    probabilities = np.eye(3, dtype=np.float32)[[0, 1, 1, 1, 1]]
    metrics = classification_metrics(labels, probabilities, ["a", "b", "c"])
    assert metrics["accuracy"] == pytest.approx(0.6)
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
    assert metrics["per_class"][1]["precision"] == pytest.approx(0.5)
    assert metrics["per_class"][0]["recall"] == pytest.approx(0.5)
    assert metrics["per_class"][2]["f1"] == 0.0
    assert metrics["per_class"][2]["support"] == 1


def test_predictions_table_columns_and_labels():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], dtype=np.float32)
    table = predictions_table(np.array([5, 9]), np.array([0, 1]), probabilities, ["Men Apparel", "Men Other", "Women Other"], "test")
    assert list(table.columns) == [
        "id", "split", "true_label", "predicted_label", "prob_men-apparel", "prob_men-other", "prob_women-other",
    ]
    assert table["predicted_label"].tolist() == ["Men Apparel", "Women Other"]
    assert table["true_label"].tolist() == ["Men Apparel", "Men Other"]
    assert table["prob_women-other"].tolist() == pytest.approx([0.1, 0.6])
