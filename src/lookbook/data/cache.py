"""The decoded image cache: uint8 arrays per size and split, so training never decodes a JPEG.

Two steps. ``decode_all`` decodes every candidate image once, on parallel threads,
and writes each configured size into ``all.npy`` row by row with ``pwrite``, so memory
stays at one image per worker whatever the data set size.
``write_split_caches`` then copies the rows of each split, in manifest order, into
``{split}.npy`` with its ``{split}.ids.tsv``. ``load_split`` is what later stages call.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from lookbook.data.images import ImageError, decode_image, fit_square
from lookbook.data.splits import SPLITS
from lookbook.io import atomic_path, write_json, write_tsv

log = logging.getLogger(__name__)

AUDIT_COLUMNS = ["row", "id", "ok", "reason", "detail", "format", "mode", "width", "height", "sha256"]
# Rows copied at a time from all.npy into a split array: 256 rows of 224 px are 39 MB.
COPY_ROWS = 256


@dataclass
class CacheSplit:
    """One split of the image cache, rows aligned across the three arrays."""

    images: np.ndarray
    """Memory-mapped uint8 ``[N, S, S, 3]``, RGB."""
    ids: np.ndarray
    """int64 ``[N]`` product ids."""
    labels: np.ndarray
    """int64 ``[N]`` indexes into ``classes``."""
    classes: list[str]
    """The label scheme's class names, in index order (all of them, present or not)."""


def split_paths(cache_dir: str | Path, size: int, split: str) -> tuple[Path, Path]:
    base = Path(cache_dir) / str(size)
    return base / f"{split}.npy", base / f"{split}.ids.tsv"


def load_split(cache_dir: str | Path, size: int, split: str) -> CacheSplit:
    """Open ``{cache_dir}/{size}/{split}.npy`` memory-mapped, with its ids, labels and classes."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is invalid; use one of {SPLITS}")
    array_path, ids_path = split_paths(cache_dir, size, split)
    meta_path = Path(cache_dir) / str(size) / "meta.json"
    for path in (array_path, ids_path, meta_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; build the cache with `snakemake results/cache/{size}/{split}.npy`")
    images = np.load(array_path, mmap_mode="r")
    table = pd.read_csv(ids_path, sep="\t", dtype={"id": "int64", "label": "string", "label_index": "int64"})
    with open(meta_path, encoding="utf-8") as handle:
        classes = list(json.load(handle)["classes"])
    if images.shape[0] != len(table):
        raise ValueError(f"{array_path} has {images.shape[0]} rows but {ids_path} lists {len(table)}; rebuild the cache")
    return CacheSplit(images=images, ids=table["id"].to_numpy(), labels=table["label_index"].to_numpy(), classes=classes)


# --- row files --------------------------------------------------------------------


class NpyRowFile:
    """A uint8 ``.npy`` array on disk, read and written row by row with ``pread``/``pwrite``.

    A memory map would count every touched page in the process's resident memory, which
    batch schedulers such as SLURM may hold against the job. Plain reads and writes go
    through the page cache, which the kernel can reclaim, so the process itself holds
    only the rows in flight. ``pwrite`` and ``pread`` take an offset, so threads can
    share one file descriptor.
    """

    def __init__(self, path: str | Path, shape: tuple[int, ...] | None = None):
        """Open ``path``; with ``shape``, first create it as a zero-filled array of that shape."""
        if shape is not None:
            # open_memmap writes the header and sizes the file; the map itself is dropped at once.
            created = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
            del created
        header = np.load(path, mmap_mode="r")
        if header.dtype != np.uint8:
            raise ValueError(f"{path} has dtype {header.dtype}, expected uint8; rebuild the cache")
        self.shape = header.shape
        self.offset = header.offset
        del header
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64))
        self._fd = os.open(path, os.O_RDWR if shape is not None else os.O_RDONLY)

    def write_rows(self, start: int, rows: np.ndarray) -> None:
        """Write ``rows`` (uint8, shape ``[n, *shape[1:]]``) at row index ``start``."""
        data = np.ascontiguousarray(rows, dtype=np.uint8).tobytes()
        written = os.pwrite(self._fd, data, self.offset + start * self.row_bytes)
        if written != len(data):
            raise OSError(f"short write: {written} of {len(data)} bytes at row {start}; check the free disk space")

    def read_row(self, index: int) -> np.ndarray:
        data = os.pread(self._fd, self.row_bytes, self.offset + index * self.row_bytes)
        if len(data) != self.row_bytes:
            raise OSError(f"short read: {len(data)} of {self.row_bytes} bytes at row {index}")
        return np.frombuffer(data, dtype=np.uint8).reshape(self.shape[1:])

    def close(self) -> None:
        os.close(self._fd)


# --- decoding ---------------------------------------------------------------------


def _decode_one(task: tuple[int, int, str], arrays: dict[int, NpyRowFile], resize: str) -> dict:
    """Decode one image and write its row into every size's array; returns its audit record."""
    row, product_id, path = task
    sizes = sorted(arrays)
    record = {"row": row, "id": product_id, "ok": False, "reason": "", "detail": "", "format": "", "mode": "", "width": 0, "height": 0, "sha256": ""}
    try:
        decoded = decode_image(path, target=max(sizes), resize=resize)
    except ImageError as error:
        record.update(reason=error.reason, detail=error.detail)
        for size in sizes:
            arrays[size].write_rows(row, np.full((1, size, size, 3), 255, dtype=np.uint8))
    else:
        record.update(ok=True, format=decoded.format, mode=decoded.mode, width=decoded.width, height=decoded.height)
        for size in sizes:
            arrays[size].write_rows(row, fit_square(decoded.rgb, size, resize)[None])
    with contextlib.suppress(OSError):
        record["sha256"] = _sha256(path)
    return record


def _sha256(path: str) -> str:
    # The file is still in the page cache from the decode, so this costs little.
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def decode_all(
    items: Sequence[tuple[int, str | Path]],
    sizes: Iterable[int],
    array_paths: dict[int, str | Path],
    resize: str = "pad",
    threads: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Decode every ``(id, path)`` once and write row i of each size to ``array_paths[size]``.

    Writes uint8 ``[N, size, size, 3]`` arrays (rows of failed images are white) through
    a temporary file renamed into place at the end. Returns the audit table, one row per
    item in input order: ``AUDIT_COLUMNS``, with ``ok`` False and the ImageError reason
    for images that cannot be used.

    Runs on ``threads`` threads: OpenCV's decode and resize and hashlib release the GIL,
    so threads scale like processes here without pickling images between them. Each
    thread decodes one image at a time and writes its rows straight into the files
    (``NpyRowFile``), so memory stays bounded whatever the number of images.

    All sizes are resized from one decode, reduced as far as the largest size allows, so
    the pixels of a smaller size differ slightly between runs with different largest sizes.
    """
    sizes = sorted(set(sizes))
    tasks = [(row, int(product_id), str(path)) for row, (product_id, path) in enumerate(items)]
    records: list[dict] = []
    previous_cv2_threads = cv2.getNumThreads()
    # One OpenCV thread per worker: the workers already use every core they were given.
    cv2.setNumThreads(1)
    try:
        with contextlib.ExitStack() as stack:
            arrays = {}
            for size in sizes:
                temp = stack.enter_context(atomic_path(array_paths[size]))
                arrays[size] = NpyRowFile(temp, shape=(len(tasks), size, size, 3))
                stack.callback(arrays[size].close)
            bar = stack.enter_context(
                tqdm(total=len(tasks), unit="img", file=sys.stderr, disable=not progress, mininterval=5.0, ascii=True)
            )
            executor = stack.enter_context(ThreadPoolExecutor(max_workers=max(1, threads)))
            for record in executor.map(lambda task: _decode_one(task, arrays, resize), tasks):
                records.append(record)
                bar.update(1)
    finally:
        cv2.setNumThreads(previous_cv2_threads)

    audit = pd.DataFrame(records, columns=AUDIT_COLUMNS).sort_values("row").reset_index(drop=True)
    audit["ok"] = audit["ok"].astype(bool)
    failed = audit[~audit["ok"]]
    log.info("decoded %d images, %d unusable: %s", len(audit), len(failed), failed["reason"].value_counts().to_dict())
    return audit


def write_split_caches(
    all_array: str | Path,
    all_ids: pd.DataFrame,
    manifest: pd.DataFrame,
    classes: Sequence[str],
    out_dir: str | Path,
    meta: dict,
) -> dict[str, int]:
    """Copy each split's rows of ``all_array`` into ``{out_dir}/{split}.npy`` in manifest order.

    ``all_ids`` has ``id`` per row of ``all_array``; ``manifest`` has ``id``, ``label``,
    ``split``. Also writes ``{split}.ids.tsv`` and ``meta.json`` (``meta`` plus classes
    and counts). Returns the row count per split.
    """
    row_of = pd.Series(np.arange(len(all_ids)), index=all_ids["id"].to_numpy())
    missing = sorted(set(manifest["id"]) - set(row_of.index))
    if missing:
        raise ValueError(f"{len(missing)} manifest ids are not in {all_array}, for example {missing[:5]}; rerun the decode step")
    class_index = {name: index for index, name in enumerate(classes)}
    out_dir = Path(out_dir)
    counts = {}
    source = NpyRowFile(all_array)
    try:
        if source.shape[0] != len(all_ids):
            raise ValueError(f"{all_array} has {source.shape[0]} rows but its id table lists {len(all_ids)}; rerun the decode step")
        for split in SPLITS:
            rows = manifest[manifest["split"] == split].sort_values("id", kind="stable")
            _copy_rows(source, row_of.loc[rows["id"].to_numpy()].to_numpy(), out_dir / f"{split}.npy")
            ids = pd.DataFrame(
                {
                    "id": rows["id"].to_numpy(),
                    "label": rows["label"].to_numpy(),
                    "label_index": rows["label"].map(class_index).to_numpy(),
                }
            )
            write_tsv(out_dir / f"{split}.ids.tsv", ids)
            counts[split] = len(rows)
    finally:
        source.close()
    write_json(out_dir / "meta.json", {**meta, "classes": list(classes), "rows": counts})
    return counts


def _copy_rows(source: NpyRowFile, source_rows: np.ndarray, path: Path) -> None:
    """Write ``source`` rows ``source_rows``, in that order, to a new array at ``path``."""
    with atomic_path(path) as temp:
        target = NpyRowFile(temp, shape=(len(source_rows), *source.shape[1:]))
        try:
            for start in range(0, len(source_rows), COPY_ROWS):
                chunk = [source.read_row(index) for index in source_rows[start : start + COPY_ROWS]]
                target.write_rows(start, np.stack(chunk))
        finally:
            target.close()
