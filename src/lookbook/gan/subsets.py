"""DCGAN subsets: ``all`` or one class, named by its slug (``men-apparel``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lookbook.labels import slugify

ALL = "all"


def subset_names(classes: Sequence[str]) -> list[str]:
    """Return ``all`` followed by the slug of every class, in class order."""
    return [ALL, *(slugify(name) for name in classes)]


def subset_class_index(subset: str, classes: Sequence[str]) -> int | None:
    """Return the class index that ``subset`` names, or None for ``all``."""
    if subset == ALL:
        return None
    slugs = [slugify(name) for name in classes]
    if subset not in slugs:
        raise ValueError(f"DCGAN subset {subset!r} is unknown; use one of {subset_names(classes)}")
    return slugs.index(subset)


def subset_mask(subset: str, labels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Return a boolean mask over ``labels`` (class indexes) of the rows in ``subset``."""
    index = subset_class_index(subset, classes)
    labels = np.asarray(labels)
    if index is None:
        return np.ones(len(labels), dtype=bool)
    return labels == index
