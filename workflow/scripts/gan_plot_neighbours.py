"""Draw generated images beside their nearest training images (rule gan_plot_neighbours)."""

from pathlib import Path

from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])  # noqa: F821

import numpy as np  # noqa: E402

from lookbook.gan.pipeline import draw_neighbours  # noqa: E402

smk = snakemake  # noqa: F821
# The rows named in quality.json index the train split of the 64 px cache.
train_images = np.load(Path(smk.input.train), mmap_mode="r")
draw_neighbours(smk.input.quality, smk.input.samples, train_images, smk.output[0])
