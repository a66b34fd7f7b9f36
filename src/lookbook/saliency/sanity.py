"""Cascading weight randomization (Adebayo et al., 2018, "Sanity Checks for Saliency Maps").

The network's layers are re-initialized one after another from the head down, and
after each step the maps of a fixed set of images are recomputed and compared with the
trained model's maps by Spearman rank correlation of |map|. A map that explains the
trained model should change as its weights are destroyed. Adebayo et al. reported
guided backpropagation nearly unchanged, so Grad-CAM runs beside it for comparison.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import Tensor, nn

from lookbook.saliency.gradcam import grad_cam, last_stage_name
from lookbook.saliency.guided import NormalizedModel, batched, guided_backprop

log = logging.getLogger(__name__)

METHODS = ("guided_backprop", "grad_cam")


def cascade_units(model: NormalizedModel) -> list[str]:
    """Return the names of the network's top-level children with parameters, head first.

    For a torchvision ResNet this is fc, layer4, layer3, layer2, layer1, bn1, conv1.
    """
    names = [name for name, child in model.model.named_children() if any(True for _ in child.parameters())]
    if not names:
        raise ValueError(f"{type(model.model).__name__} has no child module with parameters to randomize")
    return [f"model.{name}" for name in reversed(names)]


def randomize_(module: nn.Module, seed: int) -> None:
    """Re-initialize every parameter and buffer of ``module`` in place with PyTorch's default init.

    Each submodule's ``reset_parameters`` draws new weights (and BatchNorm's resets its
    running statistics). The draw runs on the CPU from ``seed``, so it is the same on
    every device.
    """
    device = next(module.parameters()).device
    module.to("cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for submodule in module.modules():
            reset = getattr(submodule, "reset_parameters", None)
            if callable(reset):
                reset()
    module.to(device)


def saliency_magnitude(method: str, model: NormalizedModel, images: Tensor, targets: Tensor) -> np.ndarray:
    """Return |map| of one method for images ``[N, 3, H, W]`` in [0, 1].

    Guided backpropagation gives ``[N, H, W]``. Grad-CAM stays at its layer's
    resolution ``[N, h, w]``, because upsampling adds no information and would let the
    rank correlation of a 1 x 1 map (a ResNet at 32 px) rank rounding noise.
    """
    if method == "guided_backprop":
        return guided_backprop(model, images, targets).abs().sum(dim=1).cpu().numpy()
    if method == "grad_cam":
        return grad_cam(model, images, targets, last_stage_name(model), upsample=False).abs().cpu().numpy()
    raise ValueError(f"saliency method {method!r} is unknown; use one of {METHODS}")


def spearman_per_image(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return the Spearman rank correlation ``[N]`` between matching maps ``[N, H, W]``.

    The correlation is NaN where either map is constant (for example a Grad-CAM map
    that the ReLU set to zero everywhere, or a 1 x 1 map), because ranks are then
    undefined.
    """
    if first.shape != second.shape:
        raise ValueError(f"map shapes differ: {first.shape} and {second.shape}")
    result = np.full(len(first), np.nan)
    for index, (a, b) in enumerate(zip(first, second)):
        a, b = a.ravel(), b.ravel()
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            result[index] = stats.spearmanr(a, b).statistic
    return result


def compute_all(
    model: NormalizedModel,
    images: Tensor,
    targets: Tensor,
    batch_size: int,
    methods: tuple[str, ...] = METHODS,
) -> dict[str, np.ndarray]:
    """Return |map| per method (see ``saliency_magnitude``), computed in batches."""
    result = {}
    for method in methods:
        parts = [saliency_magnitude(method, model, images[part], targets[part]) for part in batched(len(images), batch_size)]
        result[method] = np.concatenate(parts)
    return result


def cascading_randomization(
    model: NormalizedModel,
    images: Tensor,
    targets: Tensor,
    batch_size: int,
    seed: int = 0,
    methods: tuple[str, ...] = METHODS,
    on_step: Callable[[int, str, dict[str, np.ndarray]], None] | None = None,
) -> pd.DataFrame:
    """Run the cascade and return one row per step and method.

    ``images`` is float ``[N, 3, H, W]`` in [0, 1] on the model's device and
    ``targets`` int64 ``[N]`` (keep them fixed: the trained model's predictions).
    Step 0 recomputes the maps on an untouched copy of the model, so its correlation
    is 1 unless the maps are not deterministic. Step k has the first k units of
    ``cascade_units`` re-initialized. ``model`` itself is never changed. ``on_step`` is
    called with the step, the last randomized unit and the maps, for figures.
    """
    reference = compute_all(model, images, targets, batch_size, methods)
    work = copy.deepcopy(model)
    units = ["none", *cascade_units(model)]
    rows = []
    for step, unit in enumerate(units):
        if unit != "none":
            randomize_(work.get_submodule(unit), seed + step)
        maps = compute_all(work, images, targets, batch_size, methods)
        if on_step is not None:
            on_step(step, unit, maps)
        for method in methods:
            rho = spearman_per_image(reference[method], maps[method])
            defined = rho[np.isfinite(rho)]
            rows.append(
                {
                    "step": step,
                    "randomized_through": unit.removeprefix("model."),
                    "method": method,
                    "spearman_mean": defined.mean() if len(defined) else np.nan,
                    "spearman_std": defined.std(ddof=1) if len(defined) > 1 else np.nan,
                    "spearman_min": defined.min() if len(defined) else np.nan,
                    "n_images": len(rho),
                    "n_undefined": int(len(rho) - len(defined)),
                }
            )
            log.info(
                "step %d (randomized through %s) %s: mean Spearman %.3f over %d images, %d undefined",
                step, unit, method, rows[-1]["spearman_mean"], len(rho), rows[-1]["n_undefined"],
            )
    return pd.DataFrame(rows)
