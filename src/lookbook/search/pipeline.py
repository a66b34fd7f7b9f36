"""Steps of the search stage that read the image cache: embedding the gallery,
evaluating test queries against it, and choosing example queries for the figure."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lookbook.classifier.features import embed
from lookbook.data.cache import load_split
from lookbook.io import read_tsv
from lookbook.search.index import METADATA_COLUMNS, SearchIndex, build_index, l2_normalize, metadata_rows
from lookbook.search.metrics import centre_and_normalize, pixel_embeddings, retrieval_metrics
from lookbook.search.query import search

log = logging.getLogger(__name__)

# Neighbours drawn per example query; more would make the figure too wide to read.
FIGURE_NEIGHBOURS = 8
EXAMPLE_COLUMNS = [
    "query_id",
    "query_label",
    "method",
    "rank",
    "id",
    "similarity",
    "label",
    "articleType",
    "baseColour",
]


def read_metadata(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``styles_clean.tsv`` with ids as int64 and text columns as strings ("" when empty)."""
    text_columns = {name: str for name in METADATA_COLUMNS if name != "id"}
    frame = read_tsv(path, dtype=text_columns, keep_default_na=False)
    frame["id"] = frame["id"].astype(np.int64)
    return frame


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embed_splits(
    model: torch.nn.Module,
    meta: dict[str, Any],
    cache_dir: str | os.PathLike,
    size: int,
    splits: list[str],
    batch_size: int,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ids int64 ``[N]`` and penultimate-layer features float32 ``[N, D]`` of the
    cached images of ``splits``, in split order then cache row order."""
    all_ids, all_features = [], []
    for split in splits:
        cached = load_split(cache_dir, size, split)
        log.info("embedding %d %s images of %d px on %s", len(cached.ids), split, size, device)
        all_features.append(embed(model, cached.images, meta, batch_size=batch_size, device=device))
        all_ids.append(np.asarray(cached.ids, dtype=np.int64))
    return np.concatenate(all_ids), np.concatenate(all_features)


def pixel_splits(cache_dir: str | os.PathLike, size: int, splits: list[str], pixel_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ids int64 ``[N]`` and raw-pixel vectors float32 ``[N, pixel_size**2 * 3]``."""
    all_ids, all_vectors = [], []
    for split in splits:
        cached = load_split(cache_dir, size, split)
        all_vectors.append(pixel_embeddings(cached.images, pixel_size))
        all_ids.append(np.asarray(cached.ids, dtype=np.int64))
    return np.concatenate(all_ids), np.concatenate(all_vectors)


def build_network_index(
    model: torch.nn.Module,
    meta: dict[str, Any],
    model_path: str | os.PathLike,
    cache_dir: str | os.PathLike,
    size: int,
    splits: list[str],
    metadata: pd.DataFrame,
    images_dir: str | os.PathLike | None,
    batch_size: int,
    device: torch.device,
) -> SearchIndex:
    """Embed the gallery splits with the trained classifier and build the index.

    ``info`` records what a query needs to be embedded the same way: the cache side
    and resize mode of the images, the model path and its SHA-256, and the directory of
    the original photos for contact sheets.
    """
    ids, features = embed_splits(model, meta, cache_dir, size, splits, batch_size, device)
    info = {
        "kind": "network",
        "arch": meta["arch"],
        "model": str(model_path),
        "model_sha256": file_sha256(model_path),
        "image_size": int(size),
        "resize": meta.get("resize", "pad"),
        "splits": list(splits),
        "images_dir": str(images_dir) if images_dir else None,
    }
    return build_index(ids, features, metadata, info)


def evaluate(
    index: SearchIndex,
    query_ids: np.ndarray,
    query_features: np.ndarray,
    pixel_gallery: tuple[np.ndarray, np.ndarray],
    pixel_queries: tuple[np.ndarray, np.ndarray],
    metadata: pd.DataFrame,
    k: int,
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Compute the metrics of network and raw-pixel embeddings for the same queries.

    Returns the metrics table (``metrics.METRIC_COLUMNS``, network rows first) and,
    per method, the unit-norm gallery and query embeddings in ``index.ids`` and
    ``query_ids`` order, for choosing examples.
    """
    if len(query_ids) == 0:
        raise ValueError("the query split has no images, so there is nothing to evaluate; check split.test")
    query_metadata = metadata_rows(metadata, query_ids, "query")
    network_queries = l2_normalize(query_features)

    # The pixel vectors come from the cache in the same split and row order, but are
    # realigned by id so that a reordering upstream cannot pair the wrong rows.
    pixel_gallery_vectors = _reorder(pixel_gallery, index.ids)
    pixel_query_vectors = _reorder(pixel_queries, query_ids)
    pixel_gallery_unit, pixel_query_unit = centre_and_normalize(pixel_gallery_vectors, pixel_query_vectors)

    embeddings = {
        "network": (index.embeddings, network_queries),
        "pixels": (pixel_gallery_unit, pixel_query_unit),
    }
    tables = []
    for method, (gallery, queries) in embeddings.items():
        log.info("scoring %d queries against %d gallery images with %s embeddings", len(queries), len(gallery), method)
        tables.append(retrieval_metrics(gallery, index.metadata, queries, query_metadata, k, method))
    return pd.concat(tables, ignore_index=True), embeddings


def choose_examples(query_ids: np.ndarray, query_labels: pd.Series, count: int, seed: int) -> np.ndarray:
    """Pick ``count`` query ids, cycling through the classes so each class shows up."""
    rng = np.random.default_rng(seed)
    by_class = {
        label: list(rng.permutation(query_ids[(query_labels == label).to_numpy()]))
        for label in sorted(query_labels.unique())
    }
    chosen: list[int] = []
    while len(chosen) < min(count, len(query_ids)):
        for label in list(by_class):
            if by_class[label] and len(chosen) < count:
                chosen.append(int(by_class[label].pop()))
    return np.array(chosen, dtype=np.int64)


def example_neighbours(
    index: SearchIndex,
    query_ids: np.ndarray,
    embeddings: dict[str, tuple[np.ndarray, np.ndarray]],
    metadata: pd.DataFrame,
    chosen_ids: np.ndarray,
    k: int,
) -> pd.DataFrame:
    """Return the top ``k`` neighbours of each chosen query under each method (``EXAMPLE_COLUMNS``)."""
    positions = pd.Index(query_ids).get_indexer(chosen_ids)
    query_labels = metadata_rows(metadata, chosen_ids, "query")["label"].to_numpy()
    rows = []
    for method, (gallery, queries) in embeddings.items():
        found = search(gallery, queries[positions], k, gallery_ids=index.ids, query_ids=chosen_ids)
        for query_row, query_id in enumerate(chosen_ids):
            for rank, (gallery_row, score) in enumerate(zip(found.indices[query_row], found.scores[query_row]), 1):
                neighbour = index.metadata.iloc[gallery_row]
                rows.append(
                    {
                        "query_id": int(query_id),
                        "query_label": query_labels[query_row],
                        "method": method,
                        "rank": rank,
                        "id": int(neighbour["id"]),
                        "similarity": float(score),
                        "label": neighbour["label"],
                        "articleType": neighbour["articleType"],
                        "baseColour": neighbour["baseColour"],
                    }
                )
    return pd.DataFrame(rows, columns=EXAMPLE_COLUMNS)


def _reorder(id_vectors: tuple[np.ndarray, np.ndarray], ids: np.ndarray) -> np.ndarray:
    source_ids, vectors = id_vectors
    positions = pd.Index(source_ids).get_indexer(ids)
    if (positions < 0).any():
        missing = ids[positions < 0]
        raise ValueError(f"no raw-pixel vector for ids {missing[:5].tolist()}; the caches are out of date")
    return vectors[positions]
