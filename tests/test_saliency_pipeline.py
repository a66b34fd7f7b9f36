"""The saliency stage's steps on a cache, model and predictions in the formats of the data and classifier stages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.classifier.features import to_model_input
from lookbook.classifier.models import build_model, model_meta
from lookbook.classifier.train import save_best
from lookbook.data.cache import write_split_caches
from lookbook.io import save_npy, write_tsv
from lookbook.labels import get_scheme, slugify
from lookbook.saliency.pipeline import (
    compute_class_maps,
    compute_examples,
    load_inputs,
    load_test_set,
    run_sanity_check,
    select_examples,
    select_sanity_rows,
)
from lookbook.saliency.plots import plot_class_average, plot_examples, plot_focus, plot_sanity, plot_sanity_maps, save_figure

CLASSES = list(get_scheme("gender_master").classes)
SIZE = 32


def synthetic_products(count: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """White images with one coloured rectangle each, and a class index per image."""
    generator = np.random.default_rng(seed)
    images = np.full((count, size, size, 3), 255, dtype=np.uint8)
    labels = np.arange(count) % len(CLASSES)
    for index in range(count):
        top, left = generator.integers(2, size // 3, size=2)
        images[index, top : top + size // 2, left : left + size // 2] = generator.integers(0, 200, size=3)
    return images, labels


def write_upstream(root: Path, images: np.ndarray, labels: np.ndarray, ids: np.ndarray, arch: str = "resnet18") -> None:
    """Write the cache, best.pt, metrics.tsv and predictions.tsv that the saliency rules read.

    The cache goes through the data stage's writer and best.pt through the classifier's,
    so the files have exactly their formats. The model keeps random weights.
    """
    size = images.shape[1]
    cache_dir = root / "results" / "cache"
    save_npy(cache_dir / "all.npy", images)
    # Blocks of six consecutive images (one per class) go to test, train, val in turn.
    splits = np.array(["test", "train", "val"])[(np.arange(len(ids)) // len(CLASSES)) % 3]
    manifest = pd.DataFrame({"id": ids, "label": [CLASSES[i] for i in labels], "split": splits})
    write_split_caches(cache_dir / "all.npy", pd.DataFrame({"id": ids}), manifest, CLASSES, cache_dir / str(size), {"size": size})
    (cache_dir / "all.npy").unlink()

    torch.manual_seed(0)
    model = build_model(arch, len(CLASSES)).eval()
    classifier_dir = root / "results" / "classifier" / arch
    save_best(classifier_dir / "best.pt", model, model_meta(arch, CLASSES, size, {}, epoch=1))
    write_tsv(classifier_dir / "metrics.tsv", pd.DataFrame({"epoch": [1], "val_acc": [0.0]}))

    meta = {"image_size": size, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    with torch.no_grad():
        probabilities = torch.softmax(model(to_model_input(images, meta)), dim=1).numpy()
    predictions = pd.DataFrame(
        {
            "id": ids,
            "split": splits,
            "true_label": [CLASSES[i] for i in labels],
            "predicted_label": [CLASSES[i] for i in probabilities.argmax(axis=1)],
        }
    )
    for index, name in enumerate(CLASSES):
        predictions[f"prob_{slugify(name)}"] = probabilities[:, index]
    write_tsv(classifier_dir / "predictions.tsv", predictions)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("upstream")
    images, labels = synthetic_products(48, SIZE)
    write_upstream(root, images, labels, ids=np.arange(1000, 1048))
    return root


@pytest.fixture(scope="module")
def loaded(upstream):
    classifier_dir = upstream / "results" / "classifier" / "resnet18"
    return load_inputs(classifier_dir / "best.pt", classifier_dir / "predictions.tsv", upstream / "results" / "cache", SIZE, threads=1)


def test_load_test_set_joins_predictions_by_id(loaded, upstream):
    _, test = loaded
    predictions = pd.read_csv(upstream / "results" / "classifier" / "resnet18" / "predictions.tsv", sep="\t")
    expected = predictions[predictions["split"] == "test"].sort_values("id")
    assert test.ids.tolist() == expected["id"].tolist()
    assert [CLASSES[i] for i in test.predicted_index] == expected["predicted_label"].tolist()
    assert test.images.shape == (18, SIZE, SIZE, 3)


def test_load_test_set_missing_prediction_names_ids(upstream, tmp_path):
    predictions = pd.read_csv(upstream / "results" / "classifier" / "resnet18" / "predictions.tsv", sep="\t")
    path = tmp_path / "predictions.tsv"
    write_tsv(path, predictions[predictions["id"] != 1003])
    with pytest.raises(ValueError, match=r"1 test images .* \[1003\]\); rerun the classifier"):
        load_test_set(upstream / "results" / "cache", SIZE, path, CLASSES)


def test_load_test_set_class_mismatch_is_rejected(upstream):
    path = upstream / "results" / "classifier" / "resnet18" / "predictions.tsv"
    with pytest.raises(ValueError, match="differ from the model's"):
        load_test_set(upstream / "results" / "cache", SIZE, path, list(reversed(CLASSES)))


def test_select_examples_correct_then_incorrect(loaded):
    _, test = loaded
    rows = select_examples(test, per_class=1)
    correct = test.true_index[rows] == test.predicted_index[rows]
    for label in range(len(CLASSES)):
        in_class = test.true_index[rows] == label
        assert in_class.sum() <= 2
        assert (in_class & correct).sum() <= 1
        assert (in_class & ~correct).sum() <= 1
    assert set(test.true_index[rows]) == set(range(len(CLASSES)))


def test_compute_examples_arrays(loaded, tmp_path):
    model, test = loaded
    rows = select_examples(test, per_class=2)
    examples = compute_examples(model, test, rows, batch_size=3)
    assert examples["colour"].shape == (len(rows), SIZE, SIZE, 3)
    assert examples["grayscale"].dtype == np.uint8
    assert examples["ids"].tolist() == test.ids[rows].tolist()
    assert examples["grayscale"].max() == 255
    save_figure(plot_examples(examples), tmp_path / "examples.png")
    assert (tmp_path / "examples.png").stat().st_size > 0


def test_compute_class_maps_batch_size_invariant(loaded, tmp_path):
    model, test = loaded
    arrays, per_image, table = compute_class_maps(model, test, batch_size=16, background_threshold=235)
    single, _, _ = compute_class_maps(model, test, batch_size=1, background_threshold=235)
    np.testing.assert_allclose(arrays["maps"], single["maps"], rtol=1e-4, atol=1e-6)
    assert arrays["counts"].sum() == 18
    assert np.nanmax(arrays["maps"]) == pytest.approx(1.0)
    assert per_image["id"].tolist() == test.ids.tolist()
    assert table.set_index("predicted_label").loc["all", "n_images"] == 18
    # Each product is a quarter of the image (a 16 x 16 rectangle on 32 x 32 white).
    assert per_image["foreground_area"].tolist() == [0.25] * 18
    save_figure(plot_class_average(arrays["maps"], arrays["counts"], CLASSES), tmp_path / "class_average.png")
    save_figure(plot_focus(per_image, CLASSES), tmp_path / "focus.png")
    assert (tmp_path / "focus.png").is_file()


def test_select_sanity_rows_spread_evenly():
    assert select_sanity_rows(10, 4).tolist() == [0, 3, 6, 9]
    assert select_sanity_rows(3, 16).tolist() == [0, 1, 2]


def test_run_sanity_check_table_and_maps(loaded, tmp_path):
    model, test = loaded
    rows = select_sanity_rows(len(test.ids), 4)
    table, arrays = run_sanity_check(model, test, rows, batch_size=4, seed=0, shown=2)
    assert len(table) == 2 * 8
    assert arrays["guided_backprop"].shape == (8, 2, SIZE, SIZE)
    assert arrays["steps"].tolist()[:2] == ["none", "fc"]
    assert np.isfinite(arrays["grad_cam"]).all()
    save_figure(plot_sanity(table), tmp_path / "sanity.png")
    save_figure(plot_sanity_maps(arrays), tmp_path / "sanity_maps.png")
    assert (tmp_path / "sanity_maps.png").is_file()
