"""Class distribution figures drawn from class_counts.tsv."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from lookbook.data.plots import plot_class_distribution, plot_split_distribution
from lookbook.data.splits import class_counts

CLASSES = ["Men Apparel", "Women Apparel", "Women Other"]


def sample_counts():
    manifest = pd.DataFrame(
        {"id": range(8), "label": ["Men Apparel"] * 5 + ["Women Apparel"] * 3, "split": ["train"] * 6 + ["val", "test"]}
    )
    return class_counts(manifest, CLASSES)


def test_plot_class_distribution_writes_png(tmp_path):
    path = tmp_path / "figures" / "class_distribution.png"
    plot_class_distribution(sample_counts(), path)
    assert Image.open(path).format == "PNG"
    assert sorted(p.name for p in path.parent.iterdir()) == ["class_distribution.png"]


def test_plot_split_distribution_writes_png(tmp_path):
    path = tmp_path / "class_distribution_splits.png"
    plot_split_distribution(sample_counts(), path)
    width, height = Image.open(path).size
    assert width > height
