"""Write the embedded demo dataset (used when data_dir is unset)."""

from pathlib import Path

from lookbook.data.demo import write_demo_dataset
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

# Snakemake removes old outputs before the job, so overwrite only meets leftovers of a killed run.
write_demo_dataset(
    Path(snakemake.output.styles).parent,
    n_images=snakemake.params.n_images,
    seed=snakemake.params.seed,
    overwrite=True,
)
