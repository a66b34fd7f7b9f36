"""Snakemake script of rule download_kaggle: fill data_dir from Kaggle."""

from pathlib import Path

from lookbook.fetch import download_dataset
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])
data_dir = Path(snakemake.output.styles).parent
download_dataset(snakemake.params.dataset, data_dir)
