"""Steps of the DCGAN stage as the workflow runs them, one function per rule.

Each function reads arrays and config values, calls ``train``, ``quality`` or ``plots``
and writes the rule's outputs atomically. A subset that is skipped (too few images) or
failed (with ``on_failure: report``) still gets every declared output, marked with its
status, so the report and the rest of the workflow proceed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from lookbook.classifier.features import embed
from lookbook.gan import plots, quality
from lookbook.gan.dcgan import IMAGE_SIZE
from lookbook.gan.subsets import ALL, subset_class_index, subset_mask
from lookbook.gan.train import GRID_SAMPLES, LOSS_COLUMNS, GanConfig, GanTrainingFailure, sample, train
from lookbook.io import read_json, save_npy, save_npz, write_json, write_tsv

log = logging.getLogger(__name__)

TRAINED, SKIPPED, FAILED = "trained", "skipped", "failed"
NEIGHBOUR_QUERIES = 8  # generated images shown in the memorization check
NEIGHBOURS = 5  # nearest training images shown per generated image
SAMPLE_SEED_OFFSET = 10_007  # the evaluation noise differs from the training and grid noise


def run_training(
    subset: str,
    classes: Sequence[str],
    train_images: np.ndarray,
    train_ids: np.ndarray,
    train_labels: np.ndarray,
    test_labels: np.ndarray,
    gan_section: dict[str, Any],
    out_dir: str | Path,
    device: torch.device,
) -> dict[str, Any]:
    """Train the DCGAN of ``subset`` and write its status, losses, grids, samples and checkpoint.

    ``train_images`` is the uint8 ``[N, 64, 64, 3]`` train split of the cache, with its
    ``train_ids`` and ``train_labels`` (class indexes). ``test_labels`` sets how many
    samples to generate: one per test image of the subset, and at least 64. Returns the
    status dict. Raises GanTrainingFailure when training fails and
    ``gan_section["on_failure"]`` is ``error``.
    """
    out_dir = Path(out_dir)
    config = GanConfig.from_config(gan_section)
    mask = subset_mask(subset, train_labels, classes)
    n_train = int(mask.sum())
    n_test = int(subset_mask(subset, test_labels, classes).sum())
    status: dict[str, Any] = {
        "subset": subset,
        "class": None if subset == ALL else classes[subset_class_index(subset, classes)],
        "status": TRAINED,
        "reason": None,
        "n_train_images": n_train,
        "n_test_images": n_test,
        "min_class_images": gan_section["min_class_images"],
        "epochs_requested": config.epochs,
        "config": dict(gan_section),
    }
    grids_dir = out_dir / "grids"
    grids_dir.mkdir(parents=True, exist_ok=True)

    if n_train < gan_section["min_class_images"]:
        status.update(
            status=SKIPPED,
            reason=(
                f"{n_train} training images, fewer than gan.min_class_images={gan_section['min_class_images']}; "
                "lower that setting to train on this subset anyway"
            ),
            epochs_done=0,
            n_samples=0,
        )
        log.warning("skipping DCGAN subset %s: %s", subset, status["reason"])
        write_tsv(out_dir / "losses.tsv", pd.DataFrame(columns=LOSS_COLUMNS))
        save_npy(out_dir / "samples.npy", np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8))
        write_json(out_dir / "status.json", status)
        return status

    # Copy the subset out of the memory-mapped cache: training reads every image each epoch.
    images = np.ascontiguousarray(train_images[mask])
    result = train(images, config, out_dir / "checkpoint.pt", device, ids=np.asarray(train_ids)[mask])

    write_tsv(out_dir / "losses.tsv", result.losses)
    _write_grids(result.grids, grids_dir)
    n_samples = max(n_test, GRID_SAMPLES) if result.status == TRAINED else 0
    samples = sample(result.generator, n_samples, config.seed + SAMPLE_SEED_OFFSET, device)
    save_npy(out_dir / "samples.npy", samples)
    status.update(
        status=result.status,
        reason=result.reason,
        epochs_done=result.epochs_done,
        iterations=len(result.losses),
        resumed_from_epoch=result.resumed_from_epoch,
        failure_iteration=result.failure_iteration,
        train_seconds=round(result.seconds, 2),
        final_loss_d=_last_epoch_mean(result.losses, "loss_d"),
        final_loss_g=_last_epoch_mean(result.losses, "loss_g"),
        n_samples=n_samples,
        device=str(device),
    )
    write_json(out_dir / "status.json", status)
    if result.status == FAILED and gan_section["on_failure"] == "error":
        raise GanTrainingFailure(
            f"DCGAN subset {subset}: {result.reason}. Set gan.on_failure: report to mark the subset "
            "failed in the report and let the workflow go on"
        )
    return status


def _last_epoch_mean(losses: pd.DataFrame, column: str) -> float | None:
    if losses.empty:
        return None
    last = losses[losses["epoch"] == losses["epoch"].max()]
    return float(last[column].mean())


def _write_grids(grids: list[np.ndarray], grids_dir: Path) -> None:
    """Write ``epoch_NNN.png`` per epoch, removing grids of epochs this run no longer has."""
    wanted = {f"epoch_{epoch:03d}.png" for epoch in range(1, len(grids) + 1)}
    for stale in grids_dir.glob("epoch_*.png"):
        if stale.name not in wanted:
            log.info("removing %s, from an earlier run with more epochs", stale)
            stale.unlink()
    for epoch, grid in enumerate(grids, start=1):
        plots.save_grid_png(grid, grids_dir / f"epoch_{epoch:03d}.png")


def write_real_features(
    model: nn.Module,
    meta: dict[str, Any],
    train_split,
    test_split,
    out_path: str | Path,
    batch_size: int,
    device: torch.device,
) -> None:
    """Embed the real train and test images of the 64 px cache once for every subset's quality.

    Real images go through the same 64 px cache as the DCGAN's training data and are
    upscaled to the classifier's size exactly like generated ones, so the FID compares
    content rather than resolution. The test logits give the real-image baseline of
    class agreement.
    """
    log.info("embedding %d train and %d test images at 64 px", len(train_split.ids), len(test_split.ids))
    save_npz(
        out_path,
        train_ids=np.asarray(train_split.ids),
        train_labels=np.asarray(train_split.labels),
        train_features=embed(model, train_split.images, meta, batch_size, device),
        test_ids=np.asarray(test_split.ids),
        test_labels=np.asarray(test_split.labels),
        test_features=embed(model, test_split.images, meta, batch_size, device),
        test_logits=quality.predict_logits(model, test_split.images, meta, batch_size, device),
    )


def run_quality(
    subset: str,
    classes: Sequence[str],
    status: dict[str, Any],
    samples: np.ndarray,
    real: dict[str, np.ndarray],
    model: nn.Module,
    meta: dict[str, Any],
    batch_size: int,
    device: torch.device,
) -> dict[str, Any]:
    """Return the quality measures of one subset's samples, for ``quality.json``.

    ``real`` contains the arrays of ``write_real_features``. The FID compares the subset's
    real test images with as many generated images. The floor compares the subset's real
    train and test images: a perfect generator would still show that distance.
    """
    if list(meta["classes"]) != list(classes):
        raise ValueError(
            f"the classifier was trained on classes {meta['classes']}, the DCGAN subsets use {list(classes)}; "
            "retrain the classifier with the same labels.scheme"
        )
    class_index = subset_class_index(subset, classes)
    train_rows = np.flatnonzero(subset_mask(subset, real["train_labels"], classes))
    test_rows = np.flatnonzero(subset_mask(subset, real["test_labels"], classes))
    test_predicted = real["test_logits"][test_rows].argmax(axis=1)
    result: dict[str, Any] = {
        "subset": subset,
        "status": status["status"],
        "reason": status.get("reason"),
        "fid_label": quality.FID_LABEL,
        "feature_space": {
            "arch": meta["arch"],
            "dimension": int(real["train_features"].shape[1]),
            "image_size": int(meta["image_size"]),
            "input": "64 px cache images, resized to the classifier's input size",
        },
        "n_real_train": len(train_rows),
        "n_real_test": len(test_rows),
        "fid_floor_train_vs_test": _fid_or_none(real["train_features"][train_rows], real["test_features"][test_rows]),
        "real_test_agreement": None if class_index is None else quality.agreement(test_predicted, class_index),
        "real_test_class_shares": quality.class_shares(test_predicted, classes),
        "n_generated": len(samples),
        "fid": None,
        "class_agreement": None,
        "generated_class_shares": None,
        "nearest_train_distance": None,
        "neighbours": [],
    }
    if status["status"] != TRAINED:
        log.info("subset %s is %s, so only the real-vs-real floor is computed", subset, status["status"])
        return result

    features = embed(model, samples, meta, batch_size, device)
    predicted = quality.predict_logits(model, samples, meta, batch_size, device).argmax(axis=1)
    n_compared = min(len(test_rows), len(samples))
    result["fid"] = _fid_or_none(features[:n_compared], real["test_features"][test_rows])
    result["n_generated_in_fid"] = n_compared
    result["generated_class_shares"] = quality.class_shares(predicted, classes)
    if class_index is not None:
        result["class_agreement"] = quality.agreement(predicted, class_index)

    gallery = real["train_features"][train_rows]
    indexes, distances = quality.nearest_neighbours(features, gallery, NEIGHBOURS)
    # Real test images set the scale: generated images much closer to the training set
    # than unseen real images are suggests the generator copies training images.
    real_test_median = None
    if len(test_rows):
        _, test_distances = quality.nearest_neighbours(real["test_features"][test_rows], gallery, 1)
        real_test_median = float(np.median(test_distances[:, 0]))
    result["nearest_train_distance"] = {
        "metric": "cosine distance to the nearest training image of the subset",
        "generated_median": float(np.median(distances[:, 0])),
        "real_test_median": real_test_median,
    }
    for query in range(min(NEIGHBOUR_QUERIES, len(samples))):
        rows = train_rows[indexes[query]]
        result["neighbours"].append(
            {
                "sample": query,
                "train_rows": rows.tolist(),
                "train_ids": real["train_ids"][rows].tolist(),
                "distances": [round(float(value), 6) for value in distances[query]],
            }
        )
    log.info(
        "subset %s: FID %s (floor %s), class agreement %s",
        subset, result["fid"], result["fid_floor_train_vs_test"], result["class_agreement"],
    )
    return result


def _fid_or_none(features_a: np.ndarray, features_b: np.ndarray) -> float | None:
    if len(features_a) < 2 or len(features_b) < 2:
        log.warning("FID needs at least 2 images per side, got %d and %d; reporting none", len(features_a), len(features_b))
        return None
    return quality.fid(features_a, features_b)


def draw_training_figures(status_path, losses_path, grids_dir, grid_png, losses_png) -> None:
    """Draw the final fixed-noise grid and the loss curves of one subset."""
    status = read_json(status_path)
    title = _title(status)
    grids = sorted(Path(grids_dir).glob("epoch_*.png"))
    if grids:
        with Image.open(grids[-1]) as image:
            final = np.asarray(image.convert("RGB"))
        epoch = int(grids[-1].stem.split("_")[1])
        plots.plot_grid_image(final, f"{title}: 64 samples from the fixed noise after epoch {epoch}", grid_png)
    else:
        plots.plot_message(title, _no_data_message(status), grid_png)

    losses = pd.read_csv(losses_path, sep="\t")
    if len(losses):
        plots.plot_losses(losses, f"{title}: losses per iteration", losses_png)
    else:
        plots.plot_message(title, _no_data_message(status), losses_png)


def draw_neighbours(quality_path, samples_path, train_images: np.ndarray, out_png) -> None:
    """Draw generated images beside their nearest training images, from ``quality.json``."""
    result = read_json(quality_path)
    title = f"DCGAN {result['subset']}: nearest training images in the classifier's feature space"
    if not result["neighbours"]:
        plots.plot_message(title, _no_data_message(result), out_png)
        return
    samples = np.load(samples_path, mmap_mode="r")
    queries = [entry["sample"] for entry in result["neighbours"]]
    rows = np.array([entry["train_rows"] for entry in result["neighbours"]])
    distances = np.array([entry["distances"] for entry in result["neighbours"]])
    plots.plot_neighbours(np.asarray(samples[queries]), np.asarray(train_images)[rows], distances, title, out_png)


def _title(status: dict[str, Any]) -> str:
    return f"DCGAN {status['subset']} ({status['n_train_images']} training images)"


def _no_data_message(status: dict[str, Any]) -> str:
    return f"{status['status']}: {status.get('reason') or 'no data'}"


SUMMARY_COLUMNS = [
    "subset", "class", "status", "reason", "n_train_images", "epochs_done", "iterations", "train_seconds",
    "final_loss_d", "final_loss_g", "n_generated", "fid", "fid_floor_train_vs_test", "class_agreement",
    "real_test_agreement", "generated_nn_distance_median", "real_test_nn_distance_median",
]


def summary_table(statuses: list[dict[str, Any]], qualities: list[dict[str, Any]]) -> pd.DataFrame:
    """Return one row per subset with its status, training size and quality measures.

    ``final_loss_d`` and ``final_loss_g`` are the mean losses of the last epoch, read
    from the status written by training.
    """
    by_subset = {result["subset"]: result for result in qualities}
    rows = []
    for status in statuses:
        result = by_subset.get(status["subset"], {})
        distances = result.get("nearest_train_distance") or {}
        rows.append(
            {
                "subset": status["subset"],
                "class": status.get("class") or "",
                "status": status["status"],
                "reason": status.get("reason") or "",
                "n_train_images": status["n_train_images"],
                "epochs_done": status.get("epochs_done", 0),
                "iterations": status.get("iterations", 0),
                "train_seconds": status.get("train_seconds"),
                "final_loss_d": status.get("final_loss_d"),
                "final_loss_g": status.get("final_loss_g"),
                "n_generated": result.get("n_generated", 0),
                "fid": result.get("fid"),
                "fid_floor_train_vs_test": result.get("fid_floor_train_vs_test"),
                "class_agreement": result.get("class_agreement"),
                "real_test_agreement": result.get("real_test_agreement"),
                "generated_nn_distance_median": distances.get("generated_median"),
                "real_test_nn_distance_median": distances.get("real_test_median"),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
