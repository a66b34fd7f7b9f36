"""Focus: the share of saliency mass that falls on the product rather than the white background."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def foreground_mask(images: np.ndarray, threshold: int) -> np.ndarray:
    """Return bool ``[N, H, W]``, true where a pixel is foreground.

    ``images`` is uint8 RGB ``[N, H, W, 3]``. A pixel is background when all three
    channels are at or above ``threshold``: catalogue photos sit on white, and
    JPEG noise keeps background pixels a few levels below 255.
    """
    if not 0 <= threshold <= 255:
        raise ValueError(f"background threshold {threshold} must be a uint8 value in [0, 255]")
    return (images < threshold).any(axis=-1)


def focus_share(mass: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return the share ``[N]`` of each map's saliency mass ``[N, H, W]`` inside the foreground mask.

    The share is NaN for a map with no mass, which has no meaningful share.
    """
    total = mass.sum(axis=(1, 2), dtype=np.float64)
    inside = (mass * mask).sum(axis=(1, 2), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / total, np.nan)


def focus_table(per_image: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Summarize per-image focus by predicted class, plus an ``all`` row.

    ``per_image`` has columns ``predicted_label``, ``focus`` and ``foreground_area``.
    ``focus_over_area`` compares the focus with the foreground's share of the image,
    which is what a uniform map would score: above 1 means the map concentrates on
    the product.
    """
    rows = []
    for label in [*classes, "all"]:
        group = per_image if label == "all" else per_image[per_image["predicted_label"] == label]
        focus = group["focus"].dropna()
        area = group["foreground_area"].mean() if len(group) else np.nan
        rows.append(
            {
                "predicted_label": label,
                "n_images": len(group),
                "n_without_saliency": int(group["focus"].isna().sum()),
                "focus_mean": focus.mean() if len(focus) else np.nan,
                "focus_median": focus.median() if len(focus) else np.nan,
                "focus_std": focus.std(ddof=1) if len(focus) > 1 else np.nan,
                "foreground_area_mean": area,
                "focus_over_area": focus.mean() / area if len(focus) and area > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)
