"""Figures of the saliency stage, drawn from the files the compute rules write."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

PANEL_INCHES = 1.7


def _blank(axis, text: str = "") -> None:
    axis.axis("off")
    if text:
        axis.text(0.5, 0.5, text, ha="center", va="center", fontsize=7, wrap=True, transform=axis.transAxes)


def plot_examples(examples: Mapping[str, np.ndarray]) -> Figure:
    """Draw the photo, colour map and grayscale map of each example, correct ones left and incorrect ones right.

    One row per true class and example slot, so a class without incorrect
    predictions shows an empty right half with a note.
    """
    classes = [str(name) for name in examples["classes"]]
    correct = examples["true_index"] == examples["predicted_index"]
    per_class = max(
        1,
        max(
            (int(np.sum((examples["true_index"] == c) & (correct == outcome))) for c in range(len(classes)) for outcome in (True, False)),
            default=1,
        ),
    )
    rows = len(classes) * per_class
    figure, axes = plt.subplots(rows, 6, figsize=(6 * PANEL_INCHES, rows * PANEL_INCHES), squeeze=False)
    for label, name in enumerate(classes):
        for side, outcome in enumerate((True, False)):
            indexes = np.flatnonzero((examples["true_index"] == label) & (correct == outcome))
            for slot in range(per_class):
                panel = axes[label * per_class + slot, side * 3 : side * 3 + 3]
                if slot >= len(indexes):
                    for axis in panel:
                        _blank(axis)
                    if slot == 0:
                        _blank(panel[1], f"no {'correct' if outcome else 'incorrect'} prediction of {name}")
                    continue
                item = indexes[slot]
                predicted = classes[int(examples["predicted_index"][item])]
                panel[0].imshow(examples["images"][item])
                panel[1].imshow(examples["colour"][item])
                panel[2].imshow(examples["grayscale"][item], cmap="gray", vmin=0, vmax=255)
                panel[0].set_title(f"id {int(examples['ids'][item])}\ntrue: {name}", fontsize=7)
                panel[1].set_title(f"predicted:\n{predicted}", fontsize=7, color="black" if outcome else "firebrick")
                panel[2].set_title("grayscale", fontsize=7)
                for axis in panel:
                    axis.axis("off")
    figure.suptitle("Guided backpropagation for the predicted class: correct (left), incorrect (right)")
    # Leave 0.5 inch at the top for the title.
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (rows * PANEL_INCHES)))
    return figure


def plot_class_average(maps: np.ndarray, counts: np.ndarray, classes: list[str]) -> Figure:
    """Draw the mean grayscale map of each predicted class on one shared [0, 1] scale."""
    columns = min(3, len(classes))
    rows = int(np.ceil(len(classes) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 2.4, rows * 2.5), squeeze=False)
    image = None
    for index, axis in enumerate(axes.flat):
        if index >= len(classes):
            _blank(axis)
            continue
        if counts[index] == 0:
            _blank(axis, f"{classes[index]}\nno test image predicted")
            continue
        image = axis.imshow(maps[index], cmap="gray", vmin=0.0, vmax=1.0)
        axis.set_title(f"{classes[index]} (n={int(counts[index])})", fontsize=8)
        axis.axis("off")
    if image is not None:
        figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="mean map, scaled jointly")
    figure.suptitle("Mean guided-backpropagation map per predicted class")
    return figure


def plot_focus(per_image: pd.DataFrame, classes: list[str]) -> Figure:
    """Draw the mean focus per predicted class (95 % bootstrap interval) against the foreground area."""
    figure, axis = plt.subplots(figsize=(7, 3.6))
    order = [name for name in classes if (per_image["predicted_label"] == name).any()]
    data = per_image.dropna(subset=["focus"])
    sns.barplot(data=data, x="predicted_label", y="focus", order=order, errorbar=("ci", 95), color="tab:blue", ax=axis, label="saliency on product")
    area = per_image.groupby("predicted_label")["foreground_area"].mean().reindex(order)
    axis.scatter(range(len(order)), area.to_numpy(), marker="_", s=900, color="black", zorder=3, label="product share of the image")
    axis.set_ylim(0, 1)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("share of saliency mass")
    axis.tick_params(axis="x", labelsize=8)
    axis.legend(fontsize=8, loc="lower right")
    axis.set_title("Share of guided-backpropagation mass on non-white pixels")
    figure.tight_layout()
    return figure


METHOD_NAMES = {"guided_backprop": "Guided backpropagation", "grad_cam": "Grad-CAM"}


def plot_sanity(table: pd.DataFrame) -> Figure:
    """Draw mean Spearman correlation (± one std over images) against the cascade step, per method."""
    figure, axis = plt.subplots(figsize=(7, 3.6))
    steps = table.drop_duplicates("step").sort_values("step")
    for method, group in table.groupby("method", sort=False):
        group = group.sort_values("step")
        axis.errorbar(group["step"], group["spearman_mean"], yerr=group["spearman_std"].fillna(0), marker="o", capsize=3, label=METHOD_NAMES.get(method, method))
    axis.set_xticks(steps["step"], ["trained" if unit == "none" else f"+{unit}" for unit in steps["randomized_through"]], rotation=30, fontsize=8)
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_ylim(-0.2, 1.05)
    axis.set_xlabel("layers re-initialized, cumulative from the head")
    axis.set_ylabel("Spearman rank correlation of |map|")
    axis.legend(fontsize=8)
    axis.set_title("Cascading randomization: maps of randomized vs trained model")
    figure.tight_layout()
    return figure


def plot_sanity_maps(arrays: Mapping[str, np.ndarray]) -> Figure:
    """Draw the |maps| of the shown images at every cascade step, one row per image and method."""
    steps = [str(step) for step in arrays["steps"]]
    shown = len(arrays["ids"])
    rows = shown * 2
    figure, axes = plt.subplots(rows, len(steps) + 1, figsize=((len(steps) + 1) * 1.4, rows * 1.5), squeeze=False)
    for image in range(shown):
        for offset, method in enumerate(("guided_backprop", "grad_cam")):
            row = axes[image * 2 + offset]
            row[0].imshow(arrays["images"][image])
            row[0].set_title(f"id {int(arrays['ids'][image])}\n{METHOD_NAMES[method]}", fontsize=6)
            for column, step in enumerate(steps, start=1):
                values = arrays[method][column - 1, image]
                scale = np.percentile(values, 99) or 1.0
                # nearest: a Grad-CAM map is 7 x 7 at 224 px, and each cell is shown as computed.
                row[column].imshow(np.clip(values / scale, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                if image == 0 and offset == 0:
                    row[column].set_title("trained" if step == "none" else f"+{step}", fontsize=7)
            for axis in row:
                axis.axis("off")
    figure.suptitle("Maps as layers are re-initialized from the head down")
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, path) -> None:
    """Save ``figure`` as PNG atomically and close it."""
    from lookbook.io import atomic_path

    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=120, format="png")
    plt.close(figure)
