"""Download the ImageNet weights of every configured architecture into the torch hub cache."""

from lookbook.classifier.weights import fetch_weights
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])
for arch in snakemake.params.archs:
    fetch_weights(arch)
