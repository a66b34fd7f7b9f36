"""Cut the decoded images of one size into one array per split, in manifest order."""

from pathlib import Path

from lookbook.data.pipeline import build_split_caches
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

build_split_caches(
    snakemake.input.array,
    snakemake.input.ids,
    snakemake.input.manifest,
    snakemake.input.manifest_json,
    int(snakemake.wildcards.size),
    snakemake.params.resize,
    Path(snakemake.output.meta).parent,
)
