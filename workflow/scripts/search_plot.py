"""Snakemake script: draw the example queries with their top matches from the image cache."""

import logging

import numpy as np

from lookbook.data.cache import load_split
from lookbook.io import read_tsv
from lookbook.logs import setup_script_logging
from lookbook.search.plots import draw_examples, draw_metrics

setup_script_logging(snakemake.log[0])
log = logging.getLogger("search_plot")
params = snakemake.params

examples = read_tsv(snakemake.input.examples, keep_default_na=False)
metrics = read_tsv(snakemake.input.metrics)

# Map each id to its row in the cached split arrays (memory-mapped, so nothing is
# read until an image is drawn).
splits = {split: load_split(params.cache_dir, params.size, split) for split in params.splits}
rows = {int(i): (split, row) for split, cached in splits.items() for row, i in enumerate(cached.ids)}


def image_of(product_id: int) -> np.ndarray | None:
    if product_id not in rows:
        log.warning("id %d is in none of the cached splits %s", product_id, list(splits))
        return None
    split, row = rows[product_id]
    return np.asarray(splits[split].images[row])


draw_examples(examples, image_of, snakemake.output.examples)
draw_metrics(metrics, snakemake.output.metrics)
log.info(
    "drew %d example queries to %s and the metrics to %s",
    examples["query_id"].nunique(), snakemake.output.examples, snakemake.output.metrics,
)
