"""Benchmark: image cache build throughput against the pure JPEG decode rate.

Decodes the same files twice in one run: first with ``cv2.imdecode`` alone (read from
the page cache, no resize, no writes), then through ``lookbook.data.cache.decode_all``,
which also validates, converts, resizes to each size, hashes and writes memory-mapped
arrays. The ratio of the two rates shows how close the cache build is to the decode
limit. Each measurement runs with 1 thread and with ``--threads`` threads.

    .venv/bin/python bench/bench_cache.py [--data-dir DIR] [--limit N] [--threads T]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))

from lookbook.data.cache import decode_all  # noqa: E402
from lookbook.data.clean import list_images  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "fashion-sample"


def pure_decode_rate(paths: list[Path], threads: int) -> float:
    """Images per second of ``cv2.imdecode`` at full scale on ``threads`` threads."""

    def decode(path: Path) -> int:
        image = cv2.imdecode(np.frombuffer(path.read_bytes(), dtype=np.uint8), cv2.IMREAD_COLOR)
        return image.shape[0]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as executor:
        for _ in executor.map(decode, paths):
            pass
    return len(paths) / (time.perf_counter() - start)


def cache_build_rate(paths: list[Path], sizes: list[int], threads: int, out_dir: Path) -> float:
    """Images per second of decode_all writing every size in ``sizes``."""
    items = [(int(path.stem), path) for path in paths]
    array_paths = {size: out_dir / f"{size}.npy" for size in sizes}
    start = time.perf_counter()
    decode_all(items, sizes, array_paths, resize="pad", threads=threads, progress=False)
    return len(paths) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="directory with images/<id>.jpg")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N images by id; 0 uses all")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of the parallel run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 64], help="cache sizes in pixels")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if not (args.data_dir / "images").is_dir():
        print(f"no images in {args.data_dir}/images; pass --data-dir", file=sys.stderr)
        return 2
    listing = list_images(args.data_dir / "images")
    paths = [listing.paths[i] for i in sorted(listing.paths)]
    if args.limit:
        paths = paths[: args.limit]
    # Warm the page cache so both measurements read from memory, not disk.
    total_bytes = sum(len(path.read_bytes()) for path in paths)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, OpenCV {cv2.__version__}")
    print(f"images: {len(paths)} from {args.data_dir} ({total_bytes / len(paths) / 1024:.1f} KiB mean), sizes {args.sizes}, pad")
    print("threads | pure decode img/s | cache build img/s | build / decode")
    with tempfile.TemporaryDirectory() as temp:
        for threads in sorted({1, args.threads}):
            decode_rate = pure_decode_rate(paths, threads)
            build_rate = cache_build_rate(paths, args.sizes, threads, Path(temp))
            print(f"{threads:7d} | {decode_rate:17.0f} | {build_rate:17.0f} | {build_rate / decode_rate:14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
