"""Collect every subset's status and quality into one table (rule gan_summary)."""

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

from lookbook.gan.pipeline import summary_table  # noqa: E402
from lookbook.io import read_json, write_tsv  # noqa: E402

smk = snakemake  # noqa: F821
statuses = [read_json(path) for path in smk.input.status]
qualities = [read_json(path) for path in smk.input.quality]
write_tsv(smk.output[0], summary_table(statuses, qualities))
