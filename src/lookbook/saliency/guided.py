"""Guided backpropagation with Captum on torchvision classifiers.

Captum's ``GuidedBackprop`` (0.9) hooks every ``nn.ReLU`` module for one call and
removes the hooks in a ``finally`` block. Its hooks are tensor hooks registered on each
forward call, and the forward pre-hook hands the ReLU a clone of its input. That is why
it stays correct on torchvision blocks, which call one ``nn.ReLU(inplace=True)`` module
several times: each call gets its own hook, and no in-place op touches a hooked tensor.
A functional ``F.relu`` is never hooked, so ``NormalizedModel`` replaces the one that
torchvision's DenseNet applies after its features.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import GuidedBackprop
from torch import Tensor, nn
from torchvision.models import DenseNet


class NormalizedModel(nn.Module):
    """A classifier that takes RGB images in [0, 1] and normalizes them itself.

    Gradients with respect to this module's input are gradients with respect to the
    un-normalized image: the chain rule through ``(x - mean) / std`` divides the
    gradient of the normalized input by the per-channel std.
    """

    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f"mean {list(mean)} and std {list(std)} must have one value per RGB channel")
        if min(std) <= 0:
            raise ValueError(f"std {list(std)} must be positive")
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        # torchvision's DenseNet.forward applies F.relu to its features, which Captum cannot hook.
        self.densenet_relu = nn.ReLU() if isinstance(model, DenseNet) else None

    def forward(self, images: Tensor) -> Tensor:
        """Map images ``[N, 3, H, W]`` in [0, 1] to logits ``[N, C]``."""
        x = (images - self.mean) / self.std
        if self.densenet_relu is None:
            return self.model(x)
        features = self.densenet_relu(self.model.features(x))
        pooled = torch.flatten(F.adaptive_avg_pool2d(features, (1, 1)), 1)
        return self.model.classifier(pooled)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode and restore each one's ``training`` flag on exit.

    Eval mode matters: BatchNorm in train mode would normalize with the statistics of
    the batch, so a map would depend on the other images, and would update its
    running statistics.
    """
    flags = {name: module.training for name, module in model.named_modules()}
    model.eval()
    try:
        yield model
    finally:
        for name, module in model.named_modules():
            module.training = flags[name]


def to_input(images: np.ndarray, device: torch.device | str = "cpu") -> Tensor:
    """Convert uint8 RGB images ``[N, H, W, 3]`` to float ``[N, 3, H, W]`` in [0, 1]."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 RGB images of shape [N, H, W, 3], got {images.dtype} {images.shape}")
    # torch.tensor copies, so a read-only memory-mapped cache works too.
    tensor = torch.tensor(np.asarray(images), device=device)
    return tensor.permute(0, 3, 1, 2).float().div_(255.0)


def guided_backprop(model: NormalizedModel, images: Tensor, targets: Tensor) -> Tensor:
    """Return the guided-backpropagation gradient of each image's target logit.

    ``images`` is float ``[N, 3, H, W]`` in [0, 1] and ``targets`` int64 ``[N]``; the
    result is float32 ``[N, 3, H, W]``, the gradient with respect to the un-normalized
    image. The model runs in eval mode, so each map depends only on its own image.
    """
    # A fresh leaf that requires grad: hooks on the input only fire when it does, and
    # the caller's tensor keeps its own requires_grad flag.
    inputs = images.detach().clone().requires_grad_(True)
    with eval_mode(model), warnings.catch_warnings():
        # Captum warns on every call that it sets (and later removes) ReLU hooks.
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU activations")
        attributions = GuidedBackprop(model).attribute(inputs, target=targets.tolist())
    return attributions.detach().float()


def batched(count: int, batch_size: int) -> Iterator[slice]:
    """Yield slices that cover ``range(count)`` in batches of ``batch_size``."""
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size} must be at least 1")
    for start in range(0, count, batch_size):
        yield slice(start, min(start + batch_size, count))
