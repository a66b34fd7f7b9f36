"""Train the DCGAN of one subset (Snakemake script of rule gan_train)."""

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from lookbook.data.cache import load_split  # noqa: E402
from lookbook.device import pick_device  # noqa: E402
from lookbook.gan.pipeline import run_training  # noqa: E402

smk = snakemake  # noqa: F821
torch.set_num_threads(smk.threads)
# The cache directory is the parent of the {size} directory that contains the split files.
cache_dir = Path(smk.input.train).parents[1]
train = load_split(cache_dir, smk.params.size, "train")
test = load_split(cache_dir, smk.params.size, "test")
run_training(
    subset=smk.wildcards.subset,
    classes=smk.params.classes,
    train_images=train.images,
    train_ids=train.ids,
    train_labels=train.labels,
    test_labels=test.labels,
    gan_section=dict(smk.params.gan),
    out_dir=Path(smk.output.status).parent,
    device=pick_device("auto"),
)
