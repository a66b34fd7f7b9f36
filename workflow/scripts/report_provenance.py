"""Record the run's provenance: config, git state, versions, hardware, data checksums."""

from lookbook.io import read_json, write_json
from lookbook.logs import setup_script_logging
from lookbook.report import provenance

setup_script_logging(snakemake.log[0])

record = provenance.collect(
    config=dict(snakemake.params.config),
    repo=snakemake.params.repo,
    data_summary=read_json(snakemake.input.summary),
    manifest=read_json(snakemake.input.manifest),
)
write_json(snakemake.output[0], record)
