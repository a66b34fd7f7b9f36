"""Snakemake script: embed the gallery splits with the trained classifier and save the index."""

import logging

from lookbook.classifier.models import load_trained
from lookbook.device import pick_device
from lookbook.logs import setup_script_logging
from lookbook.search.index import save_index
from lookbook.search.pipeline import build_network_index, read_metadata

setup_script_logging(snakemake.log[0])
log = logging.getLogger("search_index")
params = snakemake.params

device = pick_device("auto")
model, meta = load_trained(snakemake.input.model, map_location=device)
index = build_network_index(
    model,
    meta,
    model_path=snakemake.input.model,
    cache_dir=params.cache_dir,
    size=params.size,
    splits=list(params.splits),
    metadata=read_metadata(snakemake.input.styles),
    images_dir=params.images_dir,
    batch_size=params.batch_size,
    device=device,
)
index.info["decode_size"] = params.decode_size
save_index(index, snakemake.output.index, snakemake.output.table)
log.info("index of %d images, %d dimensions, written to %s", len(index), index.dim, snakemake.output.index)
