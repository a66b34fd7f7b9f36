"""Batches for training and evaluation, read from the uint8 image cache.

The loader runs in the training process. The images are already decoded into a uint8
array (memory-mapped from the cache), so a batch costs one fancy-index copy and a few
tensor ops, which is cheaper than worker processes on a small CPU machine.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from lookbook.classifier.features import to_model_input

# Random resized crop of the augmentation: the crop keeps 80-100 % of the image area,
# with an aspect ratio between 3:4 and 4:3, and is resized back to the model input.
CROP_AREA = (0.8, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


class BatchLoader:
    """Iterate ``(x, y)`` batches: x float32 ``[B, 3, S, S]`` normalized, y int64 ``[B]``.

    ``images`` is uint8 ``[N, H, W, 3]`` RGB (a numpy memmap is fine), ``labels`` int64
    ``[N]``. The order (with ``shuffle``) and the flips and crops (with ``augment``)
    come from a generator seeded by ``(seed, epoch)``. Call :meth:`set_epoch` before
    each epoch, so that a resumed run gets the same batches as an uninterrupted one.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        meta: dict[str, Any],
        batch_size: int,
        shuffle: bool = False,
        augment: bool = False,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels; the cache arrays must have one row each")
        self.images = images
        self.labels = torch.tensor(np.asarray(labels), dtype=torch.int64)
        self.meta = meta
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.seed = seed
        self.device = torch.device(device)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        count = len(self.images)
        order = torch.randperm(count, generator=generator) if self.shuffle else torch.arange(count)
        for start in range(0, count, self.batch_size):
            # Sorted indices read the memory-mapped cache front to back.
            index = order[start : start + self.batch_size].sort().values
            raw = torch.from_numpy(np.ascontiguousarray(self.images[index.numpy()]))
            if self.augment:
                x = augment_batch(raw, self.meta, generator, self.device)
            else:
                x = to_model_input(raw, self.meta, self.device)
            yield x, self.labels[index].to(self.device)


def augment_batch(
    raw_uint8_nhwc: torch.Tensor, meta: dict[str, Any], generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Apply a random horizontal flip and a small random resized crop to each image.

    Equivalent to torchvision's ``RandomResizedCrop(S, scale=CROP_AREA, ratio=CROP_RATIO)``
    followed by ``RandomHorizontalFlip()``, done for the whole batch at once as one
    affine resampling. The random parameters are drawn on the CPU from ``generator``.
    Returns normalized float32 ``[B, 3, S, S]`` on ``device``.
    """
    batch = raw_uint8_nhwc.shape[0]
    size = int(meta["image_size"])
    area = torch.empty(batch).uniform_(*CROP_AREA, generator=generator)
    log_ratio = torch.empty(batch).uniform_(math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1]), generator=generator)
    ratio = torch.exp(log_ratio)
    # Crop width and height as fractions of the image side; an extreme ratio is clamped
    # to the whole side, where torchvision would draw again.
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    # Crop centres in affine_grid's coordinates, where the image spans [-1, 1].
    centre_x = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - width)
    centre_y = (torch.rand(batch, generator=generator) * 2 - 1) * (1 - height)
    flip = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0)

    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = width * flip
    theta[:, 0, 2] = centre_x
    theta[:, 1, 1] = height
    theta[:, 1, 2] = centre_y

    x = raw_uint8_nhwc.to(device).permute(0, 3, 1, 2).float().div_(255.0)
    grid = F.affine_grid(theta.to(device), [batch, 3, size, size], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = torch.tensor(meta["mean"], device=device).view(1, 3, 1, 1)
    std = torch.tensor(meta["std"], device=device).view(1, 3, 1, 1)
    return (x - mean) / std
