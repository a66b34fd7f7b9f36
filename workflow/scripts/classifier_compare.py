"""Tabulate test accuracy, parameters and training time of every trained architecture."""

import pandas as pd

from lookbook.io import read_json, write_tsv
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

rows = []
for arch, path in zip(snakemake.params.archs, snakemake.input.evaluations):
    evaluation = read_json(path)
    rows.append(
        {
            "arch": arch,
            "test_accuracy": evaluation["test_accuracy"],
            "macro_f1": evaluation["test"]["macro_f1"],
            "best_val_acc": evaluation["best_val_acc"],
            "best_epoch": evaluation["best_epoch"],
            "parameters": evaluation["parameters"],
            "trainable_parameters": evaluation["trainable_parameters"],
            "train_seconds": round(evaluation["train_seconds"], 1),
        }
    )
write_tsv(snakemake.output[0], pd.DataFrame(rows))
