"""Contact sheets: each query image beside its nearest gallery images."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lookbook.io import atomic_path  # noqa: E402

MATCH_COLOUR = "#1a7f37"
MISMATCH_COLOUR = "#cf222e"


@dataclass
class SheetRow:
    """One query and its neighbours.

    Images are uint8 ``[H, W, 3]`` RGB, or None when the file could not be read (drawn
    as a grey panel). ``matches`` marks each neighbour whose class equals the query's,
    which colours its caption; leave it empty when the query's class is unknown.
    """

    query_image: np.ndarray | None
    query_caption: str
    neighbour_images: list[np.ndarray | None]
    neighbour_captions: list[str]
    matches: list[bool] = field(default_factory=list)


def draw_sheet(rows: list[SheetRow], path: str | os.PathLike, title: str | None = None, dpi: int = 100) -> None:
    """Draw one row of panels per query, query first, and save the figure as PNG."""
    if not rows:
        raise ValueError("no queries to draw")
    columns = 1 + max(len(row.neighbour_images) for row in rows)
    panel = 1.7  # inches per panel side, with room for a three-line caption below
    figure, axes = plt.subplots(
        len(rows), columns, figsize=(panel * columns, (panel + 0.55) * len(rows)), squeeze=False
    )
    try:
        for axes_row, row in zip(axes, rows):
            _draw_panel(axes_row[0], row.query_image, row.query_caption, "black", bold=True)
            for column, axis in enumerate(axes_row[1:]):
                if column >= len(row.neighbour_images):
                    axis.axis("off")
                    continue
                colour = "black"
                if row.matches:
                    colour = MATCH_COLOUR if row.matches[column] else MISMATCH_COLOUR
                _draw_panel(axis, row.neighbour_images[column], row.neighbour_captions[column], colour)
        if title:
            figure.suptitle(title)
        figure.tight_layout()
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(figure)


def _draw_panel(axis, image: np.ndarray | None, caption: str, colour: str, bold: bool = False) -> None:
    if image is None:
        axis.set_facecolor("#d0d0d0")
        axis.text(0.5, 0.5, "image\nmissing", ha="center", va="center", transform=axis.transAxes, fontsize=8)
    else:
        axis.imshow(image)
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(2 if bold or colour != "black" else 0.5)
    axis.set_xlabel(caption, fontsize=7, color=colour, fontweight="bold" if bold else "normal")
