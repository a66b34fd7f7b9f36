"""Draw the class distribution figures from class_counts.tsv."""

import pandas as pd

from lookbook.data.plots import plot_class_distribution, plot_split_distribution
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

counts = pd.read_csv(snakemake.input.class_counts, sep="\t")
plot_class_distribution(counts, snakemake.output.overall)
plot_split_distribution(counts, snakemake.output.splits)
