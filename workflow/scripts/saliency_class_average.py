"""Snakemake script: mean guided-backpropagation map per predicted class and the focus on the product."""

import logging
from pathlib import Path

from lookbook.io import save_npz, write_tsv
from lookbook.logs import setup_script_logging
from lookbook.saliency.pipeline import compute_class_maps, load_inputs

setup_script_logging(snakemake.log[0])
log = logging.getLogger("saliency_class_average")
params = snakemake.params
# The cache files are results/cache/{size}/test.*; load_split takes results/cache.
cache_dir = Path(snakemake.input.cache[0]).parent.parent
model, test = load_inputs(snakemake.input.model, snakemake.input.predictions, cache_dir, params.size, snakemake.threads)
arrays, per_image, table = compute_class_maps(model, test, params.batch_size, params.background_threshold)
save_npz(snakemake.output.class_average, **arrays)
write_tsv(snakemake.output.focus_per_image, per_image)
write_tsv(snakemake.output.focus, table)
log.info("focus per predicted class:\n%s", table.to_string(index=False))
