"""Train one architecture on the cached train split, resuming from checkpoint.pt when present."""

import logging
from pathlib import Path

import torch

from lookbook.classifier.train import Split, fit, save_best
from lookbook.data.cache import load_split
from lookbook.device import pick_device
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])
log = logging.getLogger("classifier_train")
torch.set_num_threads(snakemake.threads)

config = snakemake.params.config
classes = list(snakemake.params.classes)
size = config["cache"]["classifier_size"]
cache_dir = Path(snakemake.input.train).parent.parent
splits = {}
for name in ("train", "val"):
    cached = load_split(cache_dir, size, name)
    if list(cached.classes) != classes:
        raise ValueError(f"cache classes {cached.classes} differ from the label scheme's {classes}; rebuild the cache")
    splits[name] = Split(images=cached.images, labels=cached.labels, ids=cached.ids)
log.info("train %d images, val %d images, %d px", len(splits["train"].ids), len(splits["val"].ids), size)

result = fit(splits["train"], splits["val"], classes, config, Path(snakemake.output.model).parent, pick_device())
result.meta["train_seconds"] = result.train_seconds
save_best(snakemake.output.model, result.model, result.meta)
