"""Draw one subset's final sample grid and loss curves (rule gan_plot_training)."""

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

from lookbook.gan.pipeline import draw_training_figures  # noqa: E402

smk = snakemake  # noqa: F821
draw_training_figures(smk.input.status, smk.input.losses, smk.input.grids, smk.output.grid, smk.output.losses)
