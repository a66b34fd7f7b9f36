"""Stratified splits: shares per class, determinism and independence of row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lookbook.data.splits import class_counts, stratified_split

CLASSES = ["A", "B", "C"]
SHARES = {"train": 0.75, "val": 0.10, "test": 0.15}


def labelled_frame(counts, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.choice(100000, size=sum(counts.values()), replace=False)
    labels = [name for name, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"id": ids, "label": labels})


def test_split_shares_per_class():
    manifest = stratified_split(labelled_frame({"A": 400, "B": 200, "C": 60}), CLASSES, SHARES, seed=1)
    table = manifest.groupby(["label", "split"]).size().unstack()
    assert table.loc["A"].to_dict() == {"test": 60, "train": 300, "val": 40}
    assert table.loc["B"].to_dict() == {"test": 30, "train": 150, "val": 20}
    assert table.loc["C"].to_dict() == {"test": 9, "train": 45, "val": 6}


def test_split_independent_of_row_order():
    frame = labelled_frame({"A": 100, "B": 50})
    first = stratified_split(frame, CLASSES, SHARES, seed=3)
    second = stratified_split(frame.sample(frac=1.0, random_state=9), CLASSES, SHARES, seed=3)
    pd.testing.assert_frame_equal(first, second)


def test_split_changes_with_seed():
    frame = labelled_frame({"A": 100})
    first = stratified_split(frame, CLASSES, SHARES, seed=3)
    second = stratified_split(frame, CLASSES, SHARES, seed=4)
    assert not first["split"].equals(second["split"])


def test_split_class_unchanged_when_other_class_grows():
    small = stratified_split(labelled_frame({"A": 100, "B": 10}), CLASSES, SHARES, seed=5)
    frame = labelled_frame({"A": 100, "B": 10})
    extra = pd.DataFrame({"id": np.arange(200000, 200040), "label": "B"})
    large = stratified_split(pd.concat([frame, extra]), CLASSES, SHARES, seed=5)
    assert small[small["label"] == "A"].reset_index(drop=True).equals(large[large["label"] == "A"].reset_index(drop=True))


def test_split_single_member_class_goes_to_train():
    manifest = stratified_split(labelled_frame({"A": 20, "C": 1}), CLASSES, SHARES, seed=0)
    assert manifest.loc[manifest["label"] == "C", "split"].tolist() == ["train"]


def test_split_sorted_by_id():
    manifest = stratified_split(labelled_frame({"A": 30, "B": 30}), CLASSES, SHARES, seed=0)
    assert manifest["id"].is_monotonic_increasing


def test_split_rejects_unknown_label():
    with pytest.raises(ValueError, match="not classes"):
        stratified_split(pd.DataFrame({"id": [1], "label": ["Z"]}), CLASSES, SHARES, seed=0)


def test_class_counts_lists_every_class():
    manifest = stratified_split(labelled_frame({"A": 40, "B": 20}), CLASSES, SHARES, seed=0)
    counts = class_counts(manifest, CLASSES)
    overall = counts[counts["split"] == "all"].set_index("label")
    assert overall["count"].to_dict() == {"A": 40, "B": 20, "C": 0}
    assert overall.loc["A", "share"] == pytest.approx(40 / 60, abs=1e-6)
    assert counts["split"].unique().tolist() == ["all", "train", "val", "test"]
