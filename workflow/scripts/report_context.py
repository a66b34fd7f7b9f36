"""Read every report input into results/report/context.json."""

import logging

from lookbook.io import write_json
from lookbook.logs import setup_script_logging
from lookbook.report import context, provenance

setup_script_logging(snakemake.log[0])

# Benchmarks of the jobs that finished before this one: every compute and plotting job,
# because this rule reads all of their outputs. The render jobs come after it.
benchmarks = provenance.read_benchmarks(snakemake.params.benchmarks)
report_context = context.build_context(
    config=dict(snakemake.params.config),
    inputs=dict(snakemake.params.inputs),
    benchmarks=benchmarks,
    study=context.load_study(snakemake.input.study),
)
write_json(snakemake.output[0], report_context)
logging.getLogger(__name__).info("context with %d benchmark rows written to %s", len(benchmarks), snakemake.output[0])
