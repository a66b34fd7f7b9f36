"""The search index: gallery ids, L2-normalized embeddings and product metadata.

On disk an index is two files side by side, readable without Snakemake or lookbook:

- ``index.npz``: ``ids`` int64 ``[N]``, ``embeddings`` float32 ``[N, D]`` with unit
  rows, and ``info``, a 0-d string array holding JSON (how the embeddings were made).
- ``index.tsv``: one row per gallery image, in the same order as ``ids``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookbook.io import read_tsv, save_npz, write_tsv

log = logging.getLogger(__name__)

# Metadata columns stored beside the embeddings; ``lookbook similar`` prints a subset.
METADATA_COLUMNS = ["id", "label", "articleType", "baseColour", "productDisplayName"]
INFO_PATH_KEYS = ("model", "images_dir")


class SearchIndexError(ValueError):
    """An index file that is missing, inconsistent or built differently from the request."""


@dataclass
class SearchIndex:
    """Gallery embeddings with their ids and metadata.

    ``embeddings`` is float32 ``[N, D]`` with unit L2 norm per row, ``ids`` int64 ``[N]``,
    ``metadata`` a frame with ``METADATA_COLUMNS`` in row order of ``ids``. ``info`` records
    how the embeddings were computed: ``kind`` (network or pixels), ``image_size`` and
    ``resize`` of the preprocessed images, ``splits``, and for network embeddings ``arch``
    and ``model`` (the checkpoint path).
    """

    ids: np.ndarray
    embeddings: np.ndarray
    metadata: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])


def l2_normalize(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Return float32 ``[N, D]`` rows scaled to unit L2 norm; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, eps)


def build_index(
    ids: np.ndarray,
    embeddings: np.ndarray,
    metadata: pd.DataFrame,
    info: dict[str, Any] | None = None,
) -> SearchIndex:
    """Normalize ``embeddings`` ``[N, D]`` and attach the metadata row of each id.

    Raises SearchIndexError when the shapes disagree, an id repeats, an embedding is not
    finite, or an id has no metadata row.
    """
    ids = np.asarray(ids, dtype=np.int64)
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or embeddings.shape[0] != ids.shape[0]:
        raise SearchIndexError(
            f"embeddings have shape {embeddings.shape} but there are {ids.shape[0]} ids; "
            "expected one row of shape [D] per id"
        )
    if len(ids) == 0:
        raise SearchIndexError("the gallery is empty; check search.gallery_splits and the cached splits")
    duplicated = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(duplicated):
        raise SearchIndexError(f"gallery ids repeat: {duplicated[:5].tolist()}; each image may appear once")
    if not np.isfinite(embeddings).all():
        bad = ids[~np.isfinite(embeddings).all(axis=1)]
        raise SearchIndexError(f"embeddings of ids {bad[:5].tolist()} are NaN or infinite")

    rows = _align_metadata(ids, metadata)
    return SearchIndex(ids=ids, embeddings=l2_normalize(embeddings), metadata=rows, info=dict(info or {}))


def _align_metadata(ids: np.ndarray, metadata: pd.DataFrame) -> pd.DataFrame:
    missing_columns = [name for name in METADATA_COLUMNS if name not in metadata.columns]
    if missing_columns:
        raise SearchIndexError(f"metadata lacks columns {missing_columns}; expected {METADATA_COLUMNS}")
    return metadata_rows(metadata[METADATA_COLUMNS], ids, "gallery")


def metadata_rows(metadata: pd.DataFrame, ids: np.ndarray, role: str) -> pd.DataFrame:
    """Return the metadata rows of ``ids``, in that order, one row per id.

    Raises SearchIndexError when an id has no row; ``role`` (gallery, query) names the ids
    in the message.
    """
    table = metadata.drop_duplicates("id").set_index("id")
    missing_ids = pd.Index(ids).difference(table.index)
    if len(missing_ids):
        raise SearchIndexError(
            f"{len(missing_ids)} {role} ids have no metadata row, for example {missing_ids[:5].tolist()}; "
            "rebuild styles_clean.tsv and the cache from the same data"
        )
    return table.loc[ids].reset_index()


def tsv_path_for(npz_path: str | os.PathLike) -> Path:
    """Return the metadata table beside an index: ``index.npz`` -> ``index.tsv``."""
    return Path(npz_path).with_suffix(".tsv")


def product_image_path(images_dir: str | os.PathLike, product_id: int) -> Path:
    """Return ``images_dir/<id>.jpg``, the Kaggle layout."""
    return Path(images_dir) / f"{product_id}.jpg"


def save_index(index: SearchIndex, npz_path: str | os.PathLike, tsv_path: str | os.PathLike | None = None) -> None:
    """Write the index atomically; paths in ``info`` are stored relative to the index.

    Relative paths keep an index usable after the whole results tree moves.
    """
    npz_path = Path(npz_path)
    info = dict(index.info)
    for key in INFO_PATH_KEYS:
        if info.get(key):
            info[key] = os.path.relpath(Path(info[key]).resolve(), npz_path.parent.resolve())
    save_npz(
        npz_path,
        ids=index.ids.astype(np.int64),
        embeddings=index.embeddings.astype(np.float32),
        info=np.array(json.dumps(info)),
    )
    write_tsv(tsv_path or tsv_path_for(npz_path), index.metadata)


def load_index(npz_path: str | os.PathLike, tsv_path: str | os.PathLike | None = None) -> SearchIndex:
    """Read an index written by ``save_index``; paths in ``info`` come back absolute."""
    npz_path = Path(npz_path)
    tsv_path = Path(tsv_path) if tsv_path else tsv_path_for(npz_path)
    for path in (npz_path, tsv_path):
        if not path.is_file():
            raise SearchIndexError(f"index file not found: {path}; build it with `snakemake results/search/index.npz`")
    with np.load(npz_path, allow_pickle=False) as arrays:
        missing = [name for name in ("ids", "embeddings") if name not in arrays.files]
        if missing:
            raise SearchIndexError(f"{npz_path} lacks arrays {missing}; it is not a search index")
        ids = arrays["ids"].astype(np.int64)
        embeddings = arrays["embeddings"].astype(np.float32)
        info = json.loads(str(arrays["info"])) if "info" in arrays.files else {}
    for key in INFO_PATH_KEYS:
        if info.get(key):
            info[key] = str((npz_path.parent / info[key]).resolve())

    metadata = read_tsv(tsv_path, dtype={"label": str, "articleType": str, "baseColour": str}, keep_default_na=False)
    if len(metadata) != len(ids) or not np.array_equal(metadata["id"].to_numpy(np.int64), ids):
        raise SearchIndexError(
            f"{tsv_path} has {len(metadata)} rows whose ids differ from the {len(ids)} ids in {npz_path}; "
            "the two files come from different builds, so rebuild the index"
        )
    return SearchIndex(ids=ids, embeddings=embeddings, metadata=metadata, info=info)
