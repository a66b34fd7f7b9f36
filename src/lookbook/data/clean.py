"""Labels and exclusions: which metadata rows and image files become labelled examples.

Every id that does not make it into ``styles_clean.tsv`` gets exactly one row in the
exclusion table, with the first reason that applies. The checks run in this order:
the row itself (``invalid_id``, ``malformed_row``, ``duplicate_id``), the image file
(``missing_image``), the label (``missing_label_value`` or the scheme's reason such as
``unisex``), then the decoded image (``empty_file``, ``not_an_image``, ``truncated``,
``decode_failed``). Image files without a metadata row are listed as ``no_metadata_row``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lookbook.data.styles import LABEL_COLUMNS
from lookbook.labels import LabelScheme

log = logging.getLogger(__name__)

EXCLUSION_COLUMNS = ["id", "reason", "detail"]
# Image files are named <id>.jpg; the suffix is matched case-insensitively.
_IMAGE_NAME = re.compile(r"^(\d+)\.jpe?g$", re.IGNORECASE)


@dataclass
class ImageListing:
    """Image files found in ``images/``, by id, and the files that are not ``<id>.jpg``."""

    paths: dict[int, Path]
    unexpected: list[str] = field(default_factory=list)


def list_images(images_dir: str | Path) -> ImageListing:
    """Index ``images_dir`` by product id, from file names of the form ``<id>.jpg``."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"image directory {images_dir} not found; data_dir must contain images/<id>.jpg")
    paths: dict[int, Path] = {}
    unexpected: list[str] = []
    with os.scandir(images_dir) as entries:
        for entry in entries:
            match = _IMAGE_NAME.match(entry.name)
            if match and entry.is_file():
                paths[int(match.group(1))] = Path(entry.path)
            elif not entry.name.startswith("."):
                unexpected.append(entry.name)
    if unexpected:
        log.warning("%d files in %s are not named <id>.jpg and are ignored, for example %s", len(unexpected), images_dir, sorted(unexpected)[:5])
    return ImageListing(paths=paths, unexpected=sorted(unexpected))


def assign_labels(
    rows: pd.DataFrame, images: ImageListing, scheme: LabelScheme, excluded_ids: set[int] = frozenset()
) -> tuple[pd.DataFrame, list[dict]]:
    """Return the rows that have an image file and a class, with ``label`` added, and the exclusions.

    ``rows`` has the ten styles.csv columns, one row per id. ``excluded_ids`` are ids
    already excluded while parsing (malformed rows); their images are not reported
    again as ``no_metadata_row``. The returned frame keeps the order of ``rows``.
    """
    exclusions: list[dict] = []
    keep: list[bool] = []
    labels: list[str | None] = []
    for record in rows[["id", *LABEL_COLUMNS]].itertuples(index=False):
        product_id, gender, master = record
        label, reason, detail = None, None, ""
        if product_id not in images.paths:
            reason, detail = "missing_image", f"images/{product_id}.jpg not found"
        elif pd.isna(gender) or pd.isna(master):
            missing = [name for name, value in zip(LABEL_COLUMNS, (gender, master)) if pd.isna(value)]
            reason, detail = "missing_label_value", f"empty {', '.join(missing)}"
        else:
            label, reason = scheme.assign(str(gender), str(master))
            if reason:
                detail = f"gender={gender}, masterCategory={master}"
        if reason:
            exclusions.append({"id": int(product_id), "reason": reason, "detail": detail})
        keep.append(reason is None)
        labels.append(label)

    labelled = rows.assign(label=labels)[keep].reset_index(drop=True)

    known = set(rows["id"].tolist()) | set(excluded_ids)
    for product_id in sorted(set(images.paths) - known):
        exclusions.append(
            {"id": product_id, "reason": "no_metadata_row", "detail": f"{images.paths[product_id].name} has no row in styles.csv"}
        )
    return labelled, exclusions


def exclusion_table(exclusions: list[dict]) -> pd.DataFrame:
    """Build the exclusion table, sorted by reason then id; ``id`` is empty when unknown."""
    table = pd.DataFrame.from_records(exclusions, columns=EXCLUSION_COLUMNS)
    table["id"] = table["id"].astype("Int64")
    return table.sort_values(["reason", "id"], kind="stable").reset_index(drop=True)


def exclusion_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Count the exclusions per reason: ``reason``, ``count``, largest first, ties by reason."""
    counts = table.groupby("reason").size().rename("count").reset_index()
    return counts.sort_values(["count", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)
