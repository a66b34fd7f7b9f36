"""Training throughput with the real data loader beside the same model fed in-memory tensors.

Runs resnet18 training steps (Adam, cross-entropy) on the demo preset's sizes: 64 px,
batch 64. The loader path reads a memory-mapped uint8 cache file with BatchLoader
(shuffle and augmentation on); the in-memory path reuses batches built beforehand.
The two paths alternate step by step. The loader's share of step time is
1 - (loader images/s) / (in-memory images/s), and the time spent waiting for the
loader is also measured directly.

Usage: .venv/bin/python bench/bench_train_loader.py [--images N] [--steps N] [--threads N]
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lookbook.classifier.data import BatchLoader
from lookbook.classifier.models import build_model, model_meta
from lookbook.logs import setup_logging

log = logging.getLogger("bench_train_loader")
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "fashion-sample" / "images"


def cache_images(count: int, size: int) -> tuple[np.ndarray, str]:
    """Return uint8 ``[count, size, size, 3]``: real photos when the sample is present, else noise."""
    paths = sorted(SAMPLE.glob("*.jpg"))[:count] if SAMPLE.is_dir() else []
    if len(paths) == count:
        from lookbook.data.images import decode_image, fit_square

        return np.stack([fit_square(decode_image(path, size).rgb, size) for path in paths]), "real photos"
    return np.random.default_rng(0).integers(0, 256, (count, size, size, 3), dtype=np.uint8), "random pixels"


def train_step(model, optimizer, criterion, batches) -> tuple[float, float, int]:
    """Run one training step on the next batch; return (step seconds, seconds waiting for the batch, images)."""
    start = time.perf_counter()
    x, y = next(batches)
    waited = time.perf_counter() - start
    loss = criterion(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start, waited, len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024, help="cache rows (default: 1024)")
    parser.add_argument("--steps", type=int, default=12, help="timed training steps per path (default: 12)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default: 64)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default: 64)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    args = parser.parse_args()
    setup_logging()
    torch.set_num_threads(args.threads)

    images, source = cache_images(args.images, args.size)
    labels = np.arange(args.images) % 6
    meta = model_meta("resnet18", [str(i) for i in range(6)], args.size, {}, epoch=0)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "train.npy", images)
        cache = np.load(Path(tmp) / "train.npy", mmap_mode="r")
        loader = BatchLoader(cache, labels, meta, args.batch_size, shuffle=True, augment=True, seed=0)
        in_memory = [batch for _, batch in zip(range(args.steps + 2), loader)]

        torch.manual_seed(0)
        model = build_model("resnet18", 6).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        criterion = nn.CrossEntropyLoss()
        # Two untimed steps first, so one-time allocations do not count against either path.
        warmup = iter(in_memory)
        for _ in range(2):
            train_step(model, optimizer, criterion, warmup)

        # The two paths alternate step by step, so that load from other processes on the
        # machine slows both alike.
        loader.set_epoch(1)
        sources = {"in-memory tensors": iter(in_memory[2:] + in_memory[2:]), "BatchLoader": iter(loader)}
        totals = {name: [0.0, 0.0, 0] for name in sources}
        for _ in range(args.steps):
            for name, batches in sources.items():
                seconds, waited, count = train_step(model, optimizer, criterion, batches)
                totals[name][0] += seconds
                totals[name][1] += waited
                totals[name][2] += count
        results = {name: (count / seconds, waited / seconds) for name, (seconds, waited, count) in totals.items()}

    ratio = results["BatchLoader"][0] / results["in-memory tensors"][0]
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, CPU")
    print(f"data: {args.images} {source}, {args.size} px, batch {args.batch_size}, {args.steps} steps, resnet18")
    for name, (rate, wait_share) in results.items():
        print(f"{name:18s} {rate:8.1f} images/s   waiting for batches: {wait_share:6.1%} of step time")
    print(f"loader cost (1 - loader/in-memory throughput): {1 - ratio:.1%}")


if __name__ == "__main__":
    main()
