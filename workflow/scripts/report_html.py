"""Render report/build/report.html from the context, figures embedded."""

from lookbook.io import read_json
from lookbook.logs import setup_script_logging
from lookbook.report import render

setup_script_logging(snakemake.log[0])
render.render_html(read_json(snakemake.input.context), snakemake.output[0])
