"""Render report/build/report.tex with its figures and the PDF build instructions."""

import logging

from lookbook.io import atomic_open, read_json
from lookbook.logs import setup_script_logging
from lookbook.report import pdf, render

setup_script_logging(snakemake.log[0])
copied = render.render_tex(read_json(snakemake.input.context), snakemake.output.tex, snakemake.output.figures)
with atomic_open(snakemake.output.readme, "w", encoding="utf-8") as handle:
    handle.write(pdf.BUILD_INSTRUCTIONS)
logging.getLogger(__name__).info("wrote %s with %d figures", snakemake.output.tex, len(copied))
