"""Embed the real 64 px train and test images with the classifier (rule gan_real_features)."""

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from lookbook.classifier.models import load_trained  # noqa: E402
from lookbook.data.cache import load_split  # noqa: E402
from lookbook.device import pick_device  # noqa: E402
from lookbook.gan.pipeline import write_real_features  # noqa: E402

smk = snakemake  # noqa: F821
torch.set_num_threads(smk.threads)
device = pick_device("auto")
model, meta = load_trained(smk.input.model, map_location=device)
# The cache directory is the parent of the {size} directory that contains the split files.
cache_dir = Path(smk.input.train).parents[1]
write_real_features(
    model,
    meta,
    load_split(cache_dir, smk.params.size, "train"),
    load_split(cache_dir, smk.params.size, "test"),
    smk.output[0],
    smk.params.batch_size,
    device,
)
