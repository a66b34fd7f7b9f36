"""Snakemake script: draw the saliency figures from the stage's result files."""

import numpy as np

from lookbook.io import read_tsv
from lookbook.logs import setup_script_logging
from lookbook.saliency.plots import plot_class_average, plot_examples, plot_focus, plot_sanity, plot_sanity_maps, save_figure

setup_script_logging(snakemake.log[0])
inputs, outputs = snakemake.input, snakemake.output

with np.load(inputs.examples) as examples:
    save_figure(plot_examples(dict(examples)), outputs.examples)

with np.load(inputs.class_average) as average:
    classes = [str(name) for name in average["classes"]]
    save_figure(plot_class_average(average["maps"], average["counts"], classes), outputs.class_average)

save_figure(plot_focus(read_tsv(inputs.focus_per_image), classes), outputs.focus)
save_figure(plot_sanity(read_tsv(inputs.sanity)), outputs.sanity)

with np.load(inputs.sanity_maps) as maps:
    save_figure(plot_sanity_maps(dict(maps)), outputs.sanity_maps)
