"""Snakemake script: guided-backpropagation maps of a few correct and incorrect test images per class."""

import logging
from pathlib import Path

from lookbook.io import save_npz
from lookbook.logs import setup_script_logging
from lookbook.saliency.pipeline import compute_examples, load_inputs, select_examples

setup_script_logging(snakemake.log[0])
log = logging.getLogger("saliency_examples")
params = snakemake.params
# The cache files are results/cache/{size}/test.*; load_split takes results/cache.
cache_dir = Path(snakemake.input.cache[0]).parent.parent
model, test = load_inputs(snakemake.input.model, snakemake.input.predictions, cache_dir, params.size, snakemake.threads)
rows = select_examples(test, params.per_class)
log.info("mapping %d example images", len(rows))
save_npz(snakemake.output.examples, **compute_examples(model, test, rows, params.batch_size))
