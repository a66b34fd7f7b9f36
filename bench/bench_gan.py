"""Benchmark: DCGAN training iterations per second on this machine's CPU.

Runs ``train_one_epoch`` on random 64 px images at batch 128 for the study's network
width (ngf = ndf = 64) and the demo and cpu presets' width (32), and prints one line per
setting. Run with ``.venv/bin/python bench/bench_gan.py``; ``--threads`` sets torch's
intra-op threads (default: all cores).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time

import numpy as np
import torch

from lookbook.gan.train import GanConfig, train

log = logging.getLogger("bench_gan")


def measure(width: int, batch_size: int, iterations: int) -> float:
    """Return training iterations per second, timing ``iterations`` batches after one warm-up epoch."""
    images = np.random.default_rng(0).integers(0, 256, size=(batch_size * iterations, 64, 64, 3), dtype=np.uint8)
    warmup = GanConfig(epochs=1, batch_size=batch_size, ngf=width, ndf=width)
    train(images[:batch_size], warmup, None, torch.device("cpu"))
    config = GanConfig(epochs=1, batch_size=batch_size, ngf=width, ndf=width)
    start = time.perf_counter()
    train(images, config, None, torch.device("cpu"))
    return iterations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads")
    parser.add_argument("--iterations", type=int, default=5, help="timed iterations per setting")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, {args.threads} threads")
    for width in (64, 32):
        rate = measure(width, batch_size=128, iterations=args.iterations)
        print(f"batch 128, ngf=ndf={width}: {rate:.3f} iterations/s, {rate * 128:.1f} images/s")


if __name__ == "__main__":
    main()
