"""The saliency stage's steps on the test split: inputs, per-image examples, class maps, sanity check.

Each function takes loaded arrays and a model, so the workflow scripts only read
paths and write files, and tests can run every step on a tiny model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lookbook.saliency.focus import focus_share, focus_table, foreground_mask
from lookbook.saliency.guided import NormalizedModel, batched, guided_backprop, to_input
from lookbook.saliency.maps import ClassAverage, colour_map, grayscale_map, magnitude, to_uint8
from lookbook.saliency.sanity import cascading_randomization

log = logging.getLogger(__name__)


@dataclass
class TestSet:
    """Test images with their classifier predictions, in cache (id) order."""

    images: np.ndarray
    """uint8 RGB ``[N, S, S, 3]``, possibly memory-mapped."""
    ids: np.ndarray
    true_index: np.ndarray
    predicted_index: np.ndarray
    classes: list[str]


def load_test_set(cache_dir: str | Path, size: int, predictions_path: str | Path, classes: list[str]) -> TestSet:
    """Load the test split of the image cache and join the classifier's test predictions by id.

    ``classes`` is the model's class list (head order). Raises ValueError when the cache
    and the predictions disagree, which means one of them is stale.
    """
    from lookbook.data.cache import load_split

    split = load_split(cache_dir, size, "test")
    if list(split.classes) != list(classes):
        raise ValueError(
            f"the image cache classes {list(split.classes)} differ from the model's {list(classes)}; "
            "rebuild the cache and retrain the classifier with the same label scheme"
        )
    predictions = pd.read_csv(predictions_path, sep="\t")
    missing_columns = {"id", "split", "true_label", "predicted_label"} - set(predictions.columns)
    if missing_columns:
        raise ValueError(f"{predictions_path} lacks the columns {sorted(missing_columns)}; rerun the classifier's prediction rule")
    test = predictions[predictions["split"] == "test"].set_index("id")
    duplicated = sorted(set(test.index[test.index.duplicated()]))
    if duplicated:
        raise ValueError(f"{predictions_path} lists test ids more than once (first ids: {duplicated[:5]}); rerun the classifier")
    missing_ids = [int(i) for i in split.ids if i not in test.index]
    if missing_ids:
        raise ValueError(
            f"{len(missing_ids)} test images of the cache have no prediction in {predictions_path} "
            f"(first ids: {missing_ids[:5]}); rerun the classifier on the current data split"
        )
    rows = test.loc[split.ids]
    index = {name: position for position, name in enumerate(classes)}
    unknown = sorted(set(rows["predicted_label"]) - set(index))
    if unknown:
        raise ValueError(f"{predictions_path} predicts labels {unknown} that the model does not have; rerun the classifier")
    true_index = rows["true_label"].map(index).to_numpy()
    if not np.array_equal(true_index, split.labels):
        raise ValueError(f"true labels in {predictions_path} differ from the image cache's labels; rerun the classifier")
    return TestSet(
        images=split.images,
        ids=np.asarray(split.ids, dtype=np.int64),
        true_index=true_index.astype(np.int64),
        predicted_index=rows["predicted_label"].map(index).to_numpy().astype(np.int64),
        classes=list(classes),
    )


def wrap_model(model: torch.nn.Module, meta: dict[str, Any], image_size: int, device: torch.device) -> NormalizedModel:
    """Return the trained model on ``device``, taking images in [0, 1] and normalizing them with ``meta``."""
    if int(meta["image_size"]) != image_size:
        raise ValueError(
            f"the model reads {meta['image_size']} px images but the cache has {image_size} px; "
            "set cache.classifier_size to the model's size or retrain"
        )
    return NormalizedModel(model, meta["mean"], meta["std"]).to(device).eval()


def select_examples(test: TestSet, per_class: int) -> np.ndarray:
    """Return row indexes of up to ``per_class`` correct and ``per_class`` incorrect test images per true class.

    The lowest ids are taken, so the choice is the same on every run. A class with
    fewer correct or incorrect images contributes what it has.
    """
    chosen = []
    correct = test.true_index == test.predicted_index
    for label in range(len(test.classes)):
        for outcome in (True, False):
            rows = np.flatnonzero((test.true_index == label) & (correct == outcome))
            chosen.extend(rows[np.argsort(test.ids[rows], kind="stable")][:per_class])
            if len(rows) < per_class:
                log.info(
                    "class %s has %d %s test predictions, fewer than the %d requested",
                    test.classes[label], len(rows), "correct" if outcome else "incorrect", per_class,
                )
    return np.asarray(chosen, dtype=np.int64)


def compute_examples(model: NormalizedModel, test: TestSet, rows: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """Return the arrays of ``examples.npz`` for the chosen rows, mapped for their predicted class."""
    device = model.mean.device
    colour, gray = [], []
    for part in batched(len(rows), batch_size):
        images = np.asarray(test.images[rows[part]])
        targets = torch.as_tensor(test.predicted_index[rows[part]], device=device)
        gradients = guided_backprop(model, to_input(images, device), targets).cpu().numpy()
        colour.append(to_uint8(colour_map(gradients)))
        gray.append(to_uint8(grayscale_map(gradients)))
    size = test.images.shape[1]
    return {
        "ids": test.ids[rows],
        "true_index": test.true_index[rows],
        "predicted_index": test.predicted_index[rows],
        "images": np.asarray(test.images[rows]) if len(rows) else np.zeros((0, size, size, 3), np.uint8),
        "colour": np.concatenate(colour) if colour else np.zeros((0, size, size, 3), np.uint8),
        "grayscale": np.concatenate(gray) if gray else np.zeros((0, size, size), np.uint8),
        "classes": np.asarray(test.classes),
    }


def compute_class_maps(
    model: NormalizedModel, test: TestSet, batch_size: int, background_threshold: int
) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame]:
    """Map every test image for its predicted class and return the class averages, per-image focus and focus table.

    The class average is the mean of the images' grayscale maps (each scaled to
    [0, 1] on its own, so every image weighs the same), divided by the largest value
    over all classes. Focus is computed from the unscaled saliency magnitude.
    """
    device = model.mean.device
    count, size = len(test.ids), test.images.shape[1]
    average = ClassAverage(len(test.classes), size, size)
    focus = np.full(count, np.nan)
    area = np.zeros(count)
    for number, part in enumerate(batched(count, batch_size)):
        images = np.asarray(test.images[part])
        predicted = test.predicted_index[part]
        gradients = guided_backprop(model, to_input(images, device), torch.as_tensor(predicted, device=device)).cpu().numpy()
        average.add(grayscale_map(gradients), predicted)
        mask = foreground_mask(images, background_threshold)
        focus[part] = focus_share(magnitude(gradients), mask)
        area[part] = mask.mean(axis=(1, 2))
        if number % 20 == 0:
            log.info("mapped %d of %d test images", part.stop, count)
    per_image = pd.DataFrame(
        {
            "id": test.ids,
            "true_label": [test.classes[i] for i in test.true_index],
            "predicted_label": [test.classes[i] for i in test.predicted_index],
            "focus": focus,
            "foreground_area": area,
        }
    )
    empty = int(np.isnan(focus).sum())
    if empty:
        log.warning("%d test images have an all-zero guided-backprop map; their focus is NaN", empty)
    arrays = {"maps": average.normalized(), "counts": average.counts, "classes": np.asarray(test.classes)}
    return arrays, per_image, focus_table(per_image, test.classes)


def select_sanity_rows(count: int, requested: int) -> np.ndarray:
    """Return ``requested`` row indexes spread evenly over ``count`` test rows (all rows if fewer)."""
    if count < requested:
        log.warning("the test split has %d images, fewer than the %d requested for the sanity check", count, requested)
    return np.unique(np.linspace(0, count - 1, num=min(count, requested)).round().astype(np.int64))


def run_sanity_check(
    model: NormalizedModel, test: TestSet, rows: np.ndarray, batch_size: int, seed: int, shown: int = 3
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Run the cascading randomization on the chosen rows, for their predicted class.

    Returns the correlation table and, for the figure, the |maps| of the first
    ``shown`` images at every step: ``guided_backprop`` float32 ``[steps, shown, S, S]``
    and ``grad_cam`` float32 ``[steps, shown, h, w]`` at its layer's resolution.
    """
    device = model.mean.device
    images = to_input(np.asarray(test.images[rows]), device)
    targets = torch.as_tensor(test.predicted_index[rows], device=device)
    kept: dict[str, list] = {"steps": [], "guided_backprop": [], "grad_cam": []}

    def keep(step: int, unit: str, maps: dict[str, np.ndarray]) -> None:
        kept["steps"].append(unit.removeprefix("model."))
        for method in ("guided_backprop", "grad_cam"):
            kept[method].append(maps[method][:shown])

    table = cascading_randomization(model, images, targets, batch_size, seed=seed, on_step=keep)
    figure_arrays = {
        "ids": test.ids[rows[:shown]],
        "images": np.asarray(test.images[rows[:shown]]),
        "steps": np.asarray(kept["steps"]),
        "guided_backprop": np.stack(kept["guided_backprop"]).astype(np.float32),
        "grad_cam": np.stack(kept["grad_cam"]).astype(np.float32),
    }
    return table, figure_arrays


def load_inputs(
    model_path: str | Path, predictions_path: str | Path, cache_dir: str | Path, size: int, threads: int
) -> tuple[NormalizedModel, TestSet]:
    """Load the trained classifier on the job's device and the test split with its predictions."""
    from lookbook.classifier.models import load_trained
    from lookbook.device import pick_device

    torch.set_num_threads(threads)
    device = pick_device("auto")
    model, meta = load_trained(model_path, map_location="cpu")
    wrapped = wrap_model(model, meta, size, device)
    test = load_test_set(cache_dir, size, predictions_path, meta["classes"])
    log.info("%s with %d classes on %s; %d test images of %d px", meta["arch"], len(test.classes), device, len(test.ids), size)
    return wrapped, test
