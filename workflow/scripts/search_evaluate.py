"""Snakemake script: test images as queries against the gallery, network features
versus raw pixels; writes the metrics table and the example queries' neighbours."""

import logging

from lookbook.classifier.models import load_trained
from lookbook.device import pick_device
from lookbook.io import write_tsv
from lookbook.logs import setup_script_logging
from lookbook.search.index import load_index
from lookbook.search.pipeline import (
    FIGURE_NEIGHBOURS,
    choose_examples,
    embed_splits,
    evaluate,
    example_neighbours,
    pixel_splits,
    read_metadata,
)

setup_script_logging(snakemake.log[0])
log = logging.getLogger("search_evaluate")
params = snakemake.params

device = pick_device("auto")
index = load_index(snakemake.input.index, snakemake.input.table)
model, meta = load_trained(snakemake.input.model, map_location=device)
metadata = read_metadata(snakemake.input.styles)

query_splits = [params.query_split]
query_ids, query_features = embed_splits(
    model, meta, params.cache_dir, params.size, query_splits, params.batch_size, device
)
pixel_gallery = pixel_splits(params.cache_dir, params.size, list(params.gallery_splits), params.pixel_size)
pixel_queries = pixel_splits(params.cache_dir, params.size, query_splits, params.pixel_size)

metrics, embeddings = evaluate(index, query_ids, query_features, pixel_gallery, pixel_queries, metadata, params.k)
write_tsv(snakemake.output.metrics, metrics)
for row in metrics.itertuples():
    log.info(
        "%s %s: precision@%d %.4f, mAP %.4f (chance %.4f) over %d queries",
        row.method, row.criterion, row.k, row.precision_at_k, row.mean_average_precision,
        row.chance_precision, row.queries,
    )

query_labels = metadata.set_index("id").loc[query_ids, "label"].reset_index(drop=True)
chosen = choose_examples(query_ids, query_labels, params.examples, params.seed)
examples = example_neighbours(
    index, query_ids, embeddings, metadata, chosen, min(params.k, FIGURE_NEIGHBOURS)
)
write_tsv(snakemake.output.examples, examples)
