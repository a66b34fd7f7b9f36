"""Evaluate the best model on the test split: metrics JSON and the predictions table."""

from pathlib import Path

import pandas as pd
import torch

from lookbook.classifier.evaluate import classification_metrics, predict_probabilities, predictions_table
from lookbook.classifier.models import count_parameters, is_trainable, load_trained
from lookbook.data.cache import load_split
from lookbook.device import pick_device
from lookbook.io import write_json, write_tsv
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

device = pick_device()
model, meta = load_trained(snakemake.input.model, map_location=device)
classes = meta["classes"]
test = load_split(Path(snakemake.input.test).parent.parent, meta["image_size"], "test")
probabilities = predict_probabilities(model, test.images, meta, snakemake.params.batch_size, device)

metrics = pd.read_csv(snakemake.input.metrics, sep="\t")
best_row = metrics.loc[metrics["epoch"] == meta["epoch"]].iloc[0]
settings = meta["config"]["classifier"]
test_metrics = classification_metrics(test.labels, probabilities, classes)
evaluation = {
    "arch": meta["arch"],
    "classes": classes,
    "test": test_metrics,
    "test_accuracy": test_metrics["accuracy"],
    "best_epoch": int(meta["epoch"]),
    "best_train_acc": float(best_row["train_acc"]),
    "best_val_acc": float(best_row["val_acc"]),
    "epochs_run": int(metrics["epoch"].max()),
    "parameters": count_parameters(model),
    "trainable_parameters": sum(
        p.numel() for name, p in model.named_parameters() if is_trainable(meta["arch"], settings["trainable"], name)
    ),
    "train_seconds": float(metrics["seconds"].sum()),
    "image_size": int(meta["image_size"]),
    "hyperparameters": settings,
}
write_json(snakemake.output.evaluation, evaluation)
write_tsv(snakemake.output.predictions, predictions_table(test.ids, test.labels, probabilities, classes, "test"))
