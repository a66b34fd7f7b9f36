"""Helpers that workflow/rules/classifier.smk calls while Snakemake builds the DAG.

They import torchvision only when ImageNet weights are configured, so that parsing the
workflow stays fast for the from-scratch presets.
"""

from __future__ import annotations

from typing import Any

# Config sections a training run depends on; other sections (saliency, gan, resources ...)
# can change without retraining.
RUN_SECTIONS = ("preset", "data_dir", "demo", "labels", "split", "cache")


class WeightsConfigError(ValueError):
    """The weights settings of the config cannot work; the message names the fix."""


def run_config(config: dict[str, Any], arch: str) -> dict[str, Any]:
    """Return the part of ``config`` that training ``arch`` depends on, with ``classifier.arch`` set to it."""
    run = {key: config[key] for key in RUN_SECTIONS}
    run["classifier"] = {**config["classifier"], "arch": arch}
    return run


def hub_weights_files(config: dict[str, Any], archs: list[str]) -> list[str]:
    """Return the hub-cache weights files that ``fetch_weights`` downloads; empty unless pretrained from the hub."""
    settings = config["classifier"]
    if settings["pretrained"] != "imagenet" or settings["weights_path"]:
        return []
    from lookbook.classifier.weights import expected_weights_path

    return [str(expected_weights_path(arch)) for arch in archs]


def weights_input(config: dict[str, Any], arch: str) -> list[str]:
    """Return the weights file that training ``arch`` reads, as a rule input (empty from scratch).

    An explicit ``classifier.weights_path`` that does not exist raises
    MissingWeightsError while the DAG is built, before any job runs.
    """
    settings = config["classifier"]
    if settings["pretrained"] != "imagenet":
        return []
    from lookbook.classifier.weights import expected_weights_path, find_weights_file

    if settings["weights_path"]:
        return [str(find_weights_file(arch, settings["weights_path"]))]
    return [str(expected_weights_path(arch))]


def check_weights_config(config: dict[str, Any], archs: list[str]) -> None:
    """Raise WeightsConfigError when one explicit weights file would serve several architectures."""
    path = config["classifier"]["weights_path"]
    if path and len(archs) > 1:
        raise WeightsConfigError(
            f"classifier.weights_path={path!r} names one file, but classifier.compare trains {archs}; "
            "set weights_path to null and put each file in $TORCH_HOME/hub/checkpoints, "
            "or leave classifier.compare empty"
        )
