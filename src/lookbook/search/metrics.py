"""Retrieval quality: precision@k and mean average precision per match criterion,
and the raw-pixel baseline that shows what the network's features add.

A gallery image is relevant to a query under a criterion when both have the same
value in that metadata column (same class, same articleType, same baseColour).
Average precision is computed over the full ranking of the gallery, as in standard
retrieval evaluation. A query with no relevant gallery image has no defined average
precision, so it is left out of that criterion's means and counted instead.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pandas as pd

from lookbook.search.index import l2_normalize
from lookbook.search.query import QUERY_BATCH

log = logging.getLogger(__name__)

# Metadata column compared for each criterion, in report order.
CRITERIA = ("label", "articleType", "baseColour")
METRIC_COLUMNS = [
    "method",
    "criterion",
    "k",
    "precision_at_1",
    "precision_at_k",
    "mean_average_precision",
    "chance_precision",
    "queries",
    "queries_without_match",
    "gallery_size",
]


def pixel_embeddings(images: np.ndarray, size: int) -> np.ndarray:
    """Downscale uint8 images ``[N, S, S, 3]`` to ``size`` x ``size`` and flatten them.

    Returns float32 ``[N, size * size * 3]`` in [0, 1]. Area interpolation averages
    the pixels each output pixel covers, the usual choice for shrinking.
    """
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images have shape {images.shape}; expected [N, S, S, 3] uint8 RGB")
    out = np.empty((len(images), size * size * 3), dtype=np.float32)
    for row, image in enumerate(images):
        small = cv2.resize(np.asarray(image), (size, size), interpolation=cv2.INTER_AREA)
        out[row] = small.reshape(-1).astype(np.float32) / 255.0
    return out


def centre_and_normalize(gallery: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the gallery's mean vector from both sets, then scale rows to unit norm.

    Product photos share a white background, so uncentred pixel vectors all point in
    nearly the same direction and their cosine similarity hardly depends on the product.
    """
    mean = gallery.mean(axis=0, keepdims=True)
    return l2_normalize(gallery - mean), l2_normalize(queries - mean)


def _encode(gallery_values: pd.Series, query_values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Map both value columns to shared integer codes; an empty or missing value gets -1."""
    combined = pd.concat([gallery_values, query_values], ignore_index=True).astype("string")
    combined = combined.mask(combined.str.strip() == "")
    codes, _ = pd.factorize(combined, use_na_sentinel=True)
    return codes[: len(gallery_values)], codes[len(gallery_values) :]


def retrieval_metrics(
    gallery: np.ndarray,
    gallery_metadata: pd.DataFrame,
    queries: np.ndarray,
    query_metadata: pd.DataFrame,
    k: int,
    method: str,
    criteria: tuple[str, ...] = CRITERIA,
) -> pd.DataFrame:
    """Score every query against the whole gallery and return one row per criterion.

    ``gallery`` float32 ``[N, D]`` and ``queries`` float32 ``[Q, D]`` have unit rows. The
    metadata frames have an ``id`` column and the criterion columns, in the same row
    order. A gallery row with the query's own id is skipped. ``chance_precision`` is the
    mean share of relevant gallery images, the expected precision of a random ranking.
    """
    gallery_ids = gallery_metadata["id"].to_numpy(np.int64)
    query_ids = query_metadata["id"].to_numpy(np.int64)
    codes = {name: _encode(gallery_metadata[name], query_metadata[name]) for name in criteria}
    # A query found in the gallery has one candidate fewer, because its own row is skipped.
    k = min(k, len(gallery) - int(np.isin(query_ids, gallery_ids).any()))
    if k < 1:
        raise ValueError("the gallery has no candidate rows for these queries")

    totals = {name: {"p1": 0.0, "pk": 0.0, "ap": 0.0, "chance": 0.0, "queries": 0, "unmatched": 0} for name in criteria}
    for start in range(0, len(queries), QUERY_BATCH):
        stop = start + QUERY_BATCH
        scores = queries[start:stop] @ gallery.T
        is_self = query_ids[start:stop, None] == gallery_ids[None, :]
        scores[is_self] = -np.inf
        # Stable sort on negated scores: ties keep gallery order, as in query.search.
        order = np.argsort(-scores, axis=1, kind="stable")
        candidate = ~np.take_along_axis(is_self, order, axis=1)
        ranks = np.arange(1, gallery.shape[0] + 1, dtype=np.float64)

        for name in criteria:
            gallery_codes, query_codes = codes[name]
            query_codes = query_codes[start:stop]
            relevant = (gallery_codes[order] == query_codes[:, None]) & candidate & (query_codes[:, None] >= 0)
            n_relevant = relevant.sum(axis=1)
            scored = n_relevant > 0
            hits = np.cumsum(relevant, axis=1)
            average_precision = (hits / ranks * relevant).sum(axis=1)[scored] / n_relevant[scored]

            total = totals[name]
            total["p1"] += relevant[scored, 0].sum()
            total["pk"] += (hits[scored, k - 1] / k).sum()
            total["ap"] += average_precision.sum()
            total["chance"] += (n_relevant[scored] / candidate[scored].sum(axis=1)).sum()
            total["queries"] += int(scored.sum())
            total["unmatched"] += int((~scored).sum())

    rows = []
    for name in criteria:
        total = totals[name]
        count = total["queries"]
        if total["unmatched"]:
            log.info(
                "%s/%s: %d of %d queries have no gallery image with the same %s and are left out",
                method, name, total["unmatched"], len(queries), name,
            )
        rows.append(
            {
                "method": method,
                "criterion": name,
                "k": k,
                "precision_at_1": total["p1"] / count if count else float("nan"),
                "precision_at_k": total["pk"] / count if count else float("nan"),
                "mean_average_precision": total["ap"] / count if count else float("nan"),
                "chance_precision": total["chance"] / count if count else float("nan"),
                "queries": count,
                "queries_without_match": total["unmatched"],
                "gallery_size": len(gallery),
            }
        )
    # Four decimals: with a few thousand queries, later digits are noise.
    return pd.DataFrame(rows, columns=METRIC_COLUMNS).round(4)
