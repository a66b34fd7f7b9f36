"""Build report/build/report.pdf from report.tex with latexmk."""

from pathlib import Path

from lookbook.logs import setup_script_logging
from lookbook.report import pdf

setup_script_logging(snakemake.log[0])
built = pdf.build_pdf(snakemake.input.tex)
if built.resolve() != Path(snakemake.output[0]).resolve():
    raise RuntimeError(f"latexmk wrote {built}, but the rule's output is {snakemake.output[0]}")
