"""Draw the classifier figures: curves, class distribution, confusion matrix, misclassified images."""

import numpy as np
import pandas as pd

from lookbook.classifier import plots
from lookbook.io import read_json
from lookbook.logs import setup_script_logging

setup_script_logging(snakemake.log[0])

evaluation = read_json(snakemake.input.evaluation)
classes = evaluation["classes"]
metrics = pd.read_csv(snakemake.input.metrics, sep="\t")
predictions = pd.read_csv(snakemake.input.predictions, sep="\t")
train_ids = pd.read_csv(snakemake.input.train_ids, sep="\t")

plots.plot_curves(metrics, snakemake.output.curves, best_epoch=evaluation["best_epoch"])
plots.plot_distribution(
    train_ids["label"].tolist(), predictions["predicted_label"].tolist(), classes, snakemake.output.distribution
)
plots.plot_confusion(evaluation["test"]["confusion_matrix"], classes, snakemake.output.confusion)

# Mistakes with the highest predicted probability come first, because they show what the model gets systematically wrong.
test_ids = pd.read_csv(snakemake.input.test_ids, sep="\t")
row_of_id = pd.Series(np.arange(len(test_ids)), index=test_ids["id"].to_numpy())
wrong = predictions.loc[predictions["true_label"] != predictions["predicted_label"]].copy()
probability_columns = [column for column in predictions.columns if column.startswith("prob_")]
wrong["probability"] = wrong[probability_columns].max(axis=1)
wrong = wrong.sort_values(["probability", "id"], ascending=[False, True]).head(snakemake.params.max_misclassified)
images = np.load(snakemake.input.test, mmap_mode="r")
rows = row_of_id.loc[wrong["id"].to_numpy()].to_numpy()
plots.plot_misclassified(
    np.stack([images[row] for row in rows]) if len(rows) else np.asarray(images[:0]),
    wrong["true_label"].tolist(),
    wrong["predicted_label"].tolist(),
    wrong["probability"].tolist(),
    snakemake.output.misclassified,
)
