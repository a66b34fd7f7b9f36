"""Benchmark: queries per second of exact cosine search, and of ``lookbook similar``'s
work per photo (decode, embed, search).

Usage:
    .venv/bin/python bench/bench_search.py [--index results/search/index.npz] [--photo PHOTO.jpg]

Without ``--index`` it times random indexes of two shapes. The demo preset's shape is
1,155 gallery images (train and validation of the 1,500 demo products, after
exclusions) with 512-dimensional resnet18 features. The study's
shape, an estimate, is 38,000 images with 2,048-dimensional resnet152 features: the
train and validation share (85 %) of the roughly 44,000 products. With ``--index`` it
times that index and, given ``--photo``, the per-photo path with the index's model.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from lookbook.logs import setup_logging
from lookbook.search.index import l2_normalize, load_index
from lookbook.search.query import search

log = logging.getLogger("bench_search")

SHAPES = {"demo": (1_155, 512), "study": (38_000, 2_048)}
K = 8


def time_search(gallery: np.ndarray, queries: np.ndarray, batch: int, repeats: int = 3) -> float:
    """Return queries per second, the best of ``repeats`` passes over ``queries`` in batches."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for offset in range(0, len(queries), batch):
            search(gallery, queries[offset : offset + batch], K)
        best = min(best, time.perf_counter() - start)
    return len(queries) / best


def bench_embeddings(name: str, gallery: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    queries = l2_normalize(rng.normal(size=(512, gallery.shape[1])))
    single = time_search(gallery, queries[:64], batch=1)
    batched = time_search(gallery, queries, batch=256)
    print(
        f"{name}: gallery {gallery.shape[0]} x {gallery.shape[1]}, top-{K}: "
        f"{single:,.0f} queries/s one at a time, {batched:,.0f} queries/s in batches of 256"
    )


def bench_photo(index_path: Path, photo: Path, repeats: int = 20) -> None:
    from lookbook.search.cli import find_similar

    find_similar(index_path, photo, K, None, "cpu")  # warm-up: first reads of the files
    start = time.perf_counter()
    for _ in range(repeats):
        find_similar(index_path, photo, K, None, "cpu")
    seconds = (time.perf_counter() - start) / repeats
    print(f"lookbook similar work per photo (index and model load included): {seconds * 1000:.0f} ms, {1 / seconds:.1f} photos/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index.npz written by the workflow")
    parser.add_argument("--photo", type=Path, help="query photo for the per-photo timing (needs --index)")
    args = parser.parse_args()
    setup_logging(logging.WARNING)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, numpy {np.__version__}")

    if args.index:
        index = load_index(args.index)
        bench_embeddings(f"index {args.index}", index.embeddings)
        if args.photo:
            bench_photo(args.index, args.photo)
        return
    rng = np.random.default_rng(1)
    for name, (rows, dim) in SHAPES.items():
        bench_embeddings(f"random index, {name} shape", l2_normalize(rng.normal(size=(rows, dim))))


if __name__ == "__main__":
    main()
