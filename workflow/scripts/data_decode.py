"""Parse styles.csv, assign labels, decode every image once and write the cleaned tables."""

from lookbook.data.pipeline import clean_and_decode
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

sizes = snakemake.params.sizes
outputs = {
    "clean": snakemake.output.clean,
    "exclusions": snakemake.output.exclusions,
    "counts": snakemake.output.counts,
    "audit": snakemake.output.audit,
    "summary": snakemake.output.summary,
    "ids": snakemake.output.ids,
}
outputs.update({f"array_{size}": path for size, path in zip(sizes, snakemake.output.arrays)})
clean_and_decode(
    snakemake.params.data_dir,
    snakemake.params.scheme,
    sizes,
    snakemake.params.resize,
    outputs,
    threads=snakemake.threads,
)
