"""Test-split evaluation: class probabilities, metrics and the predictions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from torch import nn

from lookbook.classifier.features import to_model_input
from lookbook.labels import slugify


@torch.no_grad()
def predict_probabilities(
    model: nn.Module,
    images_uint8_nhwc: np.ndarray,
    meta: dict[str, Any],
    batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Return softmax probabilities, float32 ``[N, C]``, of uint8 RGB ``[N, H, W, 3]`` images."""
    model.eval().to(device)
    chunks = []
    for start in range(0, len(images_uint8_nhwc), batch_size):
        x = to_model_input(np.asarray(images_uint8_nhwc[start : start + batch_size]), meta, device)
        chunks.append(torch.softmax(model(x).float(), dim=1).cpu())
    if not chunks:
        return np.zeros((0, len(meta["classes"])), dtype=np.float32)
    return torch.cat(chunks).numpy().astype(np.float32, copy=False)


def predictions_table(ids: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, classes: list[str], split: str) -> pd.DataFrame:
    """Return one row per image: id, split, true_label, predicted_label, prob_<class slug> per class."""
    predicted = probabilities.argmax(axis=1)
    table = pd.DataFrame(
        {
            "id": np.asarray(ids, dtype=np.int64),
            "split": split,
            "true_label": [classes[i] for i in labels],
            "predicted_label": [classes[i] for i in predicted],
        }
    )
    for index, name in enumerate(classes):
        table[f"prob_{slugify(name)}"] = probabilities[:, index].round(6)
    return table


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Return accuracy, per-class precision, recall, F1 and support, and the confusion matrix.

    The confusion matrix has true classes as rows and predicted classes as columns, in
    the order of ``classes``. A class with no prediction gets precision 0, not an error.
    """
    predicted = probabilities.argmax(axis=1)
    class_indexes = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=class_indexes, zero_division=0
    )
    macro = precision_recall_fscore_support(labels, predicted, labels=class_indexes, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_precision": float(macro[0]),
        "macro_recall": float(macro[1]),
        "macro_f1": float(macro[2]),
        "per_class": [
            {
                "class": name,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        ],
        "confusion_matrix": confusion_matrix(labels, predicted, labels=class_indexes).tolist(),
        "n_images": int(len(labels)),
    }
