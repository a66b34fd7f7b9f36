"""The study's classifier figures, drawn from the files the compute rules write."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from lookbook.io import atomic_path  # noqa: E402


def _save(figure: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(figure)


def plot_curves(metrics: pd.DataFrame, path: str | Path, best_epoch: int | None = None) -> None:
    """Draw accuracy and loss per epoch for train and validation, side by side."""
    figure, (acc_axis, loss_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for split, style in (("train", "-o"), ("val", "-s")):
        label = "validation" if split == "val" else "train"
        acc_axis.plot(metrics["epoch"], metrics[f"{split}_acc"] * 100, style, label=label, markersize=3)
        loss_axis.plot(metrics["epoch"], metrics[f"{split}_loss"], style, label=label, markersize=3)
    if best_epoch:
        for axis in (acc_axis, loss_axis):
            axis.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
    acc_axis.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    for axis in (acc_axis, loss_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    _save(figure, path)


def plot_distribution(train_labels: list[str], predicted_labels: list[str], classes: list[str], path: str | Path) -> None:
    """Draw the share of each class among training labels beside its share among test predictions."""
    train_share = pd.Series(train_labels).value_counts(normalize=True).reindex(classes, fill_value=0.0)
    predicted_share = pd.Series(predicted_labels).value_counts(normalize=True).reindex(classes, fill_value=0.0)
    table = pd.DataFrame(
        {
            "class": classes * 2,
            "share (%)": np.concatenate([train_share.to_numpy(), predicted_share.to_numpy()]) * 100,
            "labels": ["train, true labels"] * len(classes) + ["test, predicted labels"] * len(classes),
        }
    )
    figure, axis = plt.subplots(figsize=(max(6, 1.3 * len(classes)), 4))
    sns.barplot(data=table, x="class", y="share (%)", hue="labels", ax=axis)
    axis.set(xlabel="", title="Class distribution: training labels and test predictions")
    axis.tick_params(axis="x", labelrotation=30)
    _save(figure, path)


def plot_confusion(matrix: list[list[int]], classes: list[str], path: str | Path) -> None:
    """Draw the test confusion matrix with counts, rows normalized to recall for the colour."""
    counts = np.asarray(matrix)
    row_sums = counts.sum(axis=1, keepdims=True)
    recall = np.divide(counts, row_sums, out=np.zeros(counts.shape, dtype=float), where=row_sums > 0)
    figure, axis = plt.subplots(figsize=(1.2 * len(classes) + 2, 1.0 * len(classes) + 1.5))
    sns.heatmap(
        recall, annot=counts, fmt="d", cmap="Blues", vmin=0, vmax=1, xticklabels=classes, yticklabels=classes,
        cbar_kws={"label": "share of the true class"}, ax=axis,
    )
    axis.set(xlabel="predicted", ylabel="true", title="Test confusion matrix")
    axis.tick_params(axis="x", labelrotation=30)
    _save(figure, path)


def plot_misclassified(images: np.ndarray, true_labels: list[str], predicted_labels: list[str], probabilities: list[float], path: str | Path, columns: int = 6) -> None:
    """Draw a grid of misclassified test images titled with true and predicted labels.

    ``images`` is uint8 ``[N, H, W, 3]``; an empty set draws a single note instead.
    """
    count = len(images)
    rows = max(1, int(np.ceil(count / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    if count == 0:
        axes[0, 0].text(0, 0.5, "no misclassified test images", fontsize=12)
    for axis, image, true, predicted, probability in zip(axes.flat, images, true_labels, predicted_labels, probabilities):
        axis.imshow(image)
        axis.set_title(f"true: {true}\npred: {predicted} ({probability:.0%})", fontsize=8)
    _save(figure, path)
