"""ImageNet weights for the classifier: file lookup, loading and download.

The weights file is the one torchvision's weights API downloads (``<arch>-<hash>.pth``
under ``torch.hub.get_dir()/checkpoints``, that is ``$TORCH_HOME/hub/checkpoints``),
so a file fetched once on a machine with a network is found by every later job.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import urlparse

import torch

log = logging.getLogger(__name__)

# Old DenseNet checkpoints name layers ``norm.1``; torchvision renames them on load the
# same way (torchvision.models.densenet, 0.29).
_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


class MissingWeightsError(FileNotFoundError):
    """The ImageNet weights file is not on disk; the message names the file and the fix."""


def imagenet_weights(arch: str):
    """Return torchvision's default ImageNet weights enum member for ``arch``.

    For resnet152 that is ``ResNet152_Weights.IMAGENET1K_V2``.
    """
    from torchvision.models import get_model_weights

    return get_model_weights(arch).DEFAULT


def weights_file_name(arch: str) -> str:
    """Return the file name torchvision stores ``arch``'s weights under, e.g. ``resnet152-f82ba261.pth``."""
    return Path(urlparse(imagenet_weights(arch).url).path).name


def hub_checkpoint_dir() -> Path:
    """Return torchvision's download directory: ``$TORCH_HOME/hub/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def expected_weights_path(arch: str, weights_path: str | Path | None = None) -> Path:
    """Return where the weights file must be: ``weights_path`` if given, else the hub cache."""
    if weights_path:
        return Path(weights_path)
    return hub_checkpoint_dir() / weights_file_name(arch)


def find_weights_file(arch: str, weights_path: str | Path | None = None) -> Path:
    """Return the path of ``arch``'s ImageNet weights file.

    Raises MissingWeightsError naming the expected file and directory when it is absent.
    """
    path = expected_weights_path(arch, weights_path)
    if path.is_file():
        return path
    if weights_path:
        raise MissingWeightsError(
            f"ImageNet weights for {arch} not found at classifier.weights_path={str(path)!r}; "
            f"put torchvision's file {weights_file_name(arch)} there, or set weights_path to null "
            f"to use {hub_checkpoint_dir()}"
        )
    raise MissingWeightsError(
        f"ImageNet weights for {arch} not found: expected file {path.name} in {path.parent} "
        "($TORCH_HOME/hub/checkpoints). Run the fetch_weights rule on a machine with a network "
        "(`snakemake fetch_weights`), copy the file there, set classifier.weights_path, "
        "or set classifier.pretrained: none to train from scratch"
    )


def load_imagenet_state_dict(arch: str, weights_path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """Load ``arch``'s ImageNet state dict (1000-class head) from the local file, never the network."""
    path = find_weights_file(arch, weights_path)
    log.info("loading ImageNet weights for %s from %s", arch, path)
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if arch.startswith("densenet"):
        state_dict = {_DENSENET_KEY.sub(r"\1\2", key): value for key, value in state_dict.items()}
    return state_dict


def fetch_weights(arch: str, progress: bool = False) -> Path:
    """Download ``arch``'s ImageNet weights into the hub cache through torchvision and return the path.

    Does nothing when the file is already there. Raises MissingWeightsError when the
    download fails, for instance on a compute node without a network.
    """
    path = expected_weights_path(arch)
    if path.is_file():
        log.info("weights for %s already present: %s", arch, path)
        return path
    log.info("downloading ImageNet weights for %s to %s", arch, path)
    try:
        # torchvision writes to a temporary file and renames it, and checks the hash.
        imagenet_weights(arch).get_state_dict(progress=progress, check_hash=True)
    except OSError as error:
        raise MissingWeightsError(
            f"download of {path.name} failed ({error}); copy the file into {path.parent} by hand, "
            "or set classifier.pretrained: none"
        ) from error
    return path
