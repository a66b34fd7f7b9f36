"""torchvision classifiers with a new head, trainable-layer selection and the saved model format.

``best.pt`` is a plain dict that loads with ``torch.load(weights_only=True)``:

- ``model``: state dict of the whole network, head included;
- ``arch``: torchvision model name, e.g. ``resnet152``;
- ``classes``: class names in head order;
- ``image_size``: side in pixels of the square input;
- ``mean``, ``std``: per-channel normalization of RGB values in [0, 1];
- ``resize``: how the image cache made photos square (``pad`` or ``squash``);
- ``epoch``: the epoch (1-based) these weights come from;
- ``config``: the resolved configuration of the run, as plain data.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lookbook.classifier.weights import load_imagenet_state_dict

log = logging.getLogger(__name__)

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "densenet121")

# ImageNet statistics that torchvision's pretrained weights expect, for RGB in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Parameter-name prefixes that train under ``trainable: last_stage``: the last stage of
# the backbone plus the head. For VGG16, features.24 onwards is the last conv block
# (conv5_1 to the final max-pool).
LAST_STAGE_PREFIXES = {
    "resnet": ("layer4.", "fc."),
    "vgg16": tuple(f"features.{index}." for index in range(24, 31)) + ("classifier.",),
    "densenet121": ("features.denseblock4.", "features.norm5.", "classifier."),
}


def _family(arch: str) -> str:
    if arch not in ARCHS:
        raise ValueError(f"architecture {arch!r} is not supported; use one of {list(ARCHS)}")
    return "resnet" if arch.startswith("resnet") else arch


def head(model: nn.Module) -> nn.Linear:
    """Return the final Linear layer, whose input is the penultimate-layer feature vector."""
    if hasattr(model, "fc"):
        return model.fc
    if isinstance(model.classifier, nn.Linear):
        return model.classifier
    return model.classifier[-1]


def _replace_head(model: nn.Module, num_classes: int) -> None:
    old = head(model)
    new = nn.Linear(old.in_features, num_classes)
    if hasattr(model, "fc"):
        model.fc = new
    elif isinstance(model.classifier, nn.Linear):
        model.classifier = new
    else:
        model.classifier[-1] = new


def build_model(
    arch: str,
    num_classes: int,
    pretrained: str = "none",
    weights_path: str | Path | None = None,
    trainable: str = "all",
) -> nn.Module:
    """Build a torchvision ``arch`` with a ``num_classes`` head.

    ``pretrained="imagenet"`` loads the local ImageNet weights file (see
    :mod:`lookbook.classifier.weights`) before the head is replaced; ``"none"`` keeps
    torchvision's random initialisation, which draws from the global torch RNG.
    ``trainable="last_stage"`` freezes everything but the last stage and the head.
    """
    from torchvision.models import get_model

    _family(arch)
    model = get_model(arch, weights=None)
    if pretrained == "imagenet":
        model.load_state_dict(load_imagenet_state_dict(arch, weights_path))
    elif pretrained != "none":
        raise ValueError(f"classifier.pretrained={pretrained!r} is invalid; use imagenet or none")
    _replace_head(model, num_classes)

    for name, parameter in model.named_parameters():
        parameter.requires_grad_(is_trainable(arch, trainable, name))
    return model


def is_trainable(arch: str, trainable: str, parameter_name: str) -> bool:
    """Return whether ``parameter_name`` trains under ``classifier.trainable``."""
    if trainable == "all":
        return True
    if trainable == "last_stage":
        return parameter_name.startswith(LAST_STAGE_PREFIXES[_family(arch)])
    raise ValueError(f"classifier.trainable={trainable!r} is invalid; use last_stage or all")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def set_train_mode(model: nn.Module) -> None:
    """Put ``model`` in training mode, but keep frozen BatchNorm layers in eval mode.

    A BatchNorm layer whose parameters are frozen must also keep its running statistics,
    which only eval mode does. Otherwise the frozen backbone drifts with every batch.
    """
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            if not any(p.requires_grad for p in module.parameters()):
                module.eval()


def model_meta(arch: str, classes: list[str], image_size: int, config: dict[str, Any], epoch: int) -> dict[str, Any]:
    """Return the metadata stored beside the weights in ``best.pt`` (everything but ``model``)."""
    return {
        "arch": arch,
        "classes": list(classes),
        "image_size": int(image_size),
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "resize": config.get("cache", {}).get("resize", "pad"),
        "epoch": int(epoch),
        "config": config,
    }


class ModelFileError(ValueError):
    """A file given as a trained classifier that is not one."""


def load_trained(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Load a ``best.pt`` written by training and return ``(model in eval mode, meta)``.

    ``meta`` contains every key of the file except ``model``. The file loads with
    ``weights_only=True``, so no code from it runs.
    """
    try:
        payload = torch.load(Path(path), map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError) as error:
        # torch raises any of these for a file that is not a torch.save archive.
        raise ModelFileError(
            f"{path} is not a lookbook classifier model: torch.load failed with {type(error).__name__}; "
            "pass the best.pt that training wrote under results/classifier/<arch>/"
        ) from None
    if not isinstance(payload, dict):
        raise ModelFileError(f"{path} is not a lookbook classifier model: it contains a {type(payload).__name__}, not a dict")
    missing = {"model", "arch", "classes", "image_size", "mean", "std"} - set(payload)
    if missing:
        raise ModelFileError(
            f"{path} is not a lookbook classifier model: keys {sorted(missing)} are missing; "
            "pass the best.pt that training wrote under results/classifier/<arch>/"
        )
    from torchvision.models import get_model

    model = get_model(payload["arch"], weights=None)
    _replace_head(model, len(payload["classes"]))
    model.load_state_dict(payload["model"])
    model.eval()
    meta = {key: value for key, value in payload.items() if key != "model"}
    return model, meta
