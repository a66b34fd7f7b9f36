"""Figures of the data stage, drawn with seaborn from ``class_counts.tsv``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from lookbook.io import atomic_path

SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}


def plot_class_distribution(counts: pd.DataFrame, path) -> None:
    """Draw the image count per class over all splits, each bar labelled with count and share."""
    overall = counts[counts["split"] == "all"].reset_index(drop=True)
    sns.set_theme(style="whitegrid")
    figure, axis = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    sns.barplot(data=overall, x="label", y="count", hue="label", palette="colorblind", legend=False, ax=axis)
    for index, row in overall.iterrows():
        axis.annotate(f"{row['count']:,}\n{row['share']:.1%}", (index, row["count"]), ha="center", va="bottom", fontsize=8)
    axis.set_xlabel("class")
    axis.set_ylabel("images")
    axis.set_title(f"Class distribution, {int(overall['count'].sum()):,} images")
    axis.margins(y=0.18)
    axis.tick_params(axis="x", labelrotation=20)
    _save(figure, path)


def plot_split_distribution(counts: pd.DataFrame, path) -> None:
    """Draw counts (left) and within-split shares (right) per class for train, validation and test."""
    splits = counts[counts["split"] != "all"].copy()
    splits["split"] = splits["split"].map(SPLIT_NAMES)
    sns.set_theme(style="whitegrid")
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    sns.barplot(data=splits, x="label", y="count", hue="split", palette="colorblind", ax=axes[0])
    axes[0].set_ylabel("images")
    axes[0].set_title("Images per class and split")
    sns.barplot(data=splits, x="label", y="share", hue="split", palette="colorblind", ax=axes[1])
    axes[1].set_ylabel("share of the split")
    axes[1].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[1].set_title("Class shares per split (stratified: equal heights)")
    for axis in axes:
        axis.set_xlabel("class")
        axis.tick_params(axis="x", labelrotation=20)
    _save(figure, path)


def _save(figure, path) -> None:
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=150)
    plt.close(figure)
