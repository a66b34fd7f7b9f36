"""Write the stratified train/validation/test manifest and the class counts."""

from lookbook.data.pipeline import make_splits
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

make_splits(
    snakemake.input.clean,
    snakemake.params.scheme,
    snakemake.params.shares,
    snakemake.params.seed,
    {
        "manifest": snakemake.output.manifest,
        "manifest_json": snakemake.output.manifest_json,
        "class_counts": snakemake.output.class_counts,
    },
)
