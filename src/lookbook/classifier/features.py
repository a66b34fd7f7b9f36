"""Preprocessing shared by training, evaluation and prediction, and penultimate-layer features."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lookbook.classifier.models import head


def to_model_input(
    images_uint8_nhwc: np.ndarray | torch.Tensor,
    meta: dict[str, Any],
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Convert uint8 RGB ``[N, H, W, 3]`` images to the normalized float32 ``[N, 3, S, S]`` the model reads.

    ``S`` is ``meta["image_size"]``; images of another size are resized with bilinear
    interpolation and antialiasing. Values are scaled to [0, 1], then normalized with
    ``meta["mean"]`` and ``meta["std"]``.
    """
    if torch.is_tensor(images_uint8_nhwc):
        images = images_uint8_nhwc
    else:
        # The cache is a read-only memory map, which torch cannot wrap; copy this batch.
        array = np.asarray(images_uint8_nhwc)
        images = torch.from_numpy(array if array.flags.writeable else array.copy())
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images [N, H, W, 3], got {images.dtype} {tuple(images.shape)}")
    x = images.to(device).permute(0, 3, 1, 2).float().div_(255.0)
    size = int(meta["image_size"])
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(meta["mean"], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(meta["std"], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def embed(
    model: nn.Module,
    images_uint8_nhwc: np.ndarray | torch.Tensor,
    meta: dict[str, Any],
    batch_size: int = 64,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Return penultimate-layer features, float32 ``[N, D]``, of uint8 RGB ``[N, H, W, 3]`` images.

    The features are the input of the final Linear layer: ``D`` = 512 for resnet18/34,
    2048 for resnet50/101/152, 4096 for vgg16, 1024 for densenet121. The model runs in
    eval mode on ``device`` (default: the device its parameters are on) and is
    left in eval mode.
    """
    if device is None:
        device = next(model.parameters()).device
    model.eval().to(device)
    captured: list[torch.Tensor] = []

    def keep_input(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        captured.append(inputs[0].detach().float().cpu())

    handle = head(model).register_forward_pre_hook(keep_input)
    try:
        for start in range(0, len(images_uint8_nhwc), batch_size):
            batch = to_model_input(images_uint8_nhwc[start : start + batch_size], meta, device)
            model(batch)
    finally:
        handle.remove()
    if not captured:
        return np.zeros((0, head(model).in_features), dtype=np.float32)
    return torch.cat(captured).numpy().astype(np.float32, copy=False)
