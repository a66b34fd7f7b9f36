"""Stratified train/validation/test split, fixed by a seed and independent of row order."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def stratified_split(
    labelled: pd.DataFrame, classes: Sequence[str], shares: dict[str, float], seed: int
) -> pd.DataFrame:
    """Return ``id``, ``label``, ``split`` for every row of ``labelled``, sorted by id.

    Within each class the ids are sorted, shuffled with a generator seeded by
    ``(seed, class index)``, and cut into round(n * val) validation ids, round(n * test)
    test ids and the rest for training. Sorting first makes the result independent of
    the row order of styles.csv, and the per-class seed keeps one class's assignment
    unchanged when another class gains or loses rows. scikit-learn's
    ``train_test_split`` is not used because it rejects classes with a single member,
    which the master_category scheme has on the real data (Home).
    """
    unknown = sorted(set(labelled["label"]) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes of the scheme {list(classes)}")
    parts = []
    for class_index, name in enumerate(classes):
        ids = np.sort(labelled.loc[labelled["label"] == name, "id"].to_numpy(dtype=np.int64))
        if ids.size == 0:
            continue
        rng = np.random.default_rng([seed, class_index])
        shuffled = ids[rng.permutation(ids.size)]
        n_val = int(round(ids.size * shares["val"]))
        n_test = int(round(ids.size * shares["test"]))
        split = np.array(["val"] * n_val + ["test"] * n_test + ["train"] * (ids.size - n_val - n_test))
        parts.append(pd.DataFrame({"id": shuffled, "label": name, "split": split}))
    manifest = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id", "label", "split"])
    return manifest.sort_values("id", kind="stable").reset_index(drop=True)


def class_counts(manifest: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Count images per split (all, train, val, test) and class, with each class's share of its split.

    Returns ``split``, ``label``, ``count``, ``share``, listing every class of ``classes``.
    """
    frames = []
    for split in ("all", *SPLITS):
        rows = manifest if split == "all" else manifest[manifest["split"] == split]
        counts = rows["label"].value_counts().reindex(list(classes), fill_value=0)
        total = int(counts.sum())
        shares = counts / total if total else counts.astype(float)
        frames.append(pd.DataFrame({"split": split, "label": list(classes), "count": counts.to_numpy(), "share": shares.round(6).to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
