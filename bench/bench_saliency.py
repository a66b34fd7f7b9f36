"""Benchmark: guided-backpropagation maps per second, batched versus one image at a time.

Usage:
    .venv/bin/python bench/bench_saliency.py [--arch resnet18] [--size 224] [--images 32] [--batch-size 16]

Both modes run in one process on the same random-weight torchvision model and the
same random images, so the ratio between them is what the batch buys on this machine.
Each mode runs twice and the faster pass counts; the first call also warms up.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time

import torch
from torchvision.models import get_model

from lookbook.device import pick_device
from lookbook.logs import setup_logging
from lookbook.saliency.guided import NormalizedModel, batched, guided_backprop

log = logging.getLogger("bench_saliency")

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def maps_per_second(model: NormalizedModel, images: torch.Tensor, targets: torch.Tensor, batch_size: int, repeats: int = 2) -> float:
    """Return maps per second, the best of ``repeats`` passes over ``images`` in batches of ``batch_size``."""
    best = float("inf")
    for _ in range(repeats):
        if images.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for part in batched(len(images), batch_size):
            guided_backprop(model, images[part], targets[part])
        if images.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18", help="torchvision classifier name (default: resnet18)")
    parser.add_argument("--size", type=int, default=224, help="image side in pixels (default: 224)")
    parser.add_argument("--images", type=int, default=32, help="images mapped per pass (default: 32)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per batched call (default: 16)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()
    setup_logging()

    device = pick_device(args.device)
    torch.manual_seed(0)
    model = NormalizedModel(get_model(args.arch, weights=None, num_classes=6), *IMAGENET).to(device).eval()
    images = torch.rand(args.images, 3, args.size, args.size, device=device)
    targets = torch.arange(args.images, device=device) % 6

    guided_backprop(model, images[:2], targets[:2])  # warm-up: allocator, kernels, Captum import paths
    batched_rate = maps_per_second(model, images, targets, args.batch_size)
    single_rate = maps_per_second(model, images, targets, 1)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, device {device}")
    print(f"model: {args.arch} (random weights), {args.size} px, {args.images} images")
    print("| mode | maps/s |")
    print("| --- | --- |")
    print(f"| batch of {args.batch_size} | {batched_rate:.2f} |")
    print(f"| one image per call | {single_rate:.2f} |")
    print(f"batched / single: {batched_rate / single_rate:.2f}x")


if __name__ == "__main__":
    main()
