"""Snakemake script: cascading weight randomization, guided backpropagation versus Grad-CAM."""

import logging
from pathlib import Path

from lookbook.io import save_npz, write_tsv
from lookbook.logs import setup_script_logging
from lookbook.saliency.pipeline import load_inputs, run_sanity_check, select_sanity_rows

setup_script_logging(snakemake.log[0])
log = logging.getLogger("saliency_sanity")
params = snakemake.params
# The cache files are results/cache/{size}/test.*; load_split takes results/cache.
cache_dir = Path(snakemake.input.cache[0]).parent.parent
model, test = load_inputs(snakemake.input.model, snakemake.input.predictions, cache_dir, params.size, snakemake.threads)
rows = select_sanity_rows(len(test.ids), params.images)
table, figure_arrays = run_sanity_check(model, test, rows, params.batch_size, params.seed)
write_tsv(snakemake.output.sanity, table)
save_npz(snakemake.output.maps, **figure_arrays)
log.info("sanity check:\n%s", table.to_string(index=False))
