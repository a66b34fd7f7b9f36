"""Classification of new photos with exactly the training-time preprocessing.

Each photo is decoded and made square as the image cache does (``decode_image`` and
``fit_square`` from :mod:`lookbook.data.images`, with the model's ``image_size`` and
``resize``), then normalized as in training (:func:`to_model_input`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lookbook.classifier.evaluate import predict_probabilities
from lookbook.data.images import ImageError, decode_image, fit_square

log = logging.getLogger(__name__)


def load_photo(path: str | Path, meta: dict[str, Any]) -> np.ndarray:
    """Return the photo at ``path`` as uint8 ``[S, S, 3]`` RGB, as the image cache stores it."""
    size = int(meta["image_size"])
    resize = meta.get("resize", "pad")
    decoded = decode_image(path, size, resize)
    return fit_square(decoded.rgb, size, resize)


def predict_photos(
    model: nn.Module,
    meta: dict[str, Any],
    paths: list[str],
    batch_size: int = 32,
    device: torch.device | str = "cpu",
) -> list[dict[str, Any]]:
    """Classify each photo in ``paths`` and return one row per path, in order.

    A row has ``path``, ``predicted_class``, ``probability`` and ``error``. A photo that
    cannot be read or decoded gets its reason in ``error`` and empty prediction fields,
    and the other photos are still classified.
    """
    rows: list[dict[str, Any]] = []
    readable: list[int] = []
    photos: list[np.ndarray] = []
    for path in paths:
        row = {"path": str(path), "predicted_class": "", "probability": None, "error": ""}
        try:
            photos.append(load_photo(path, meta))
            readable.append(len(rows))
        except ImageError as error:
            row["error"] = str(error)
            log.warning("cannot classify %s: %s", path, error)
        rows.append(row)

    if photos:
        probabilities = predict_probabilities(model, np.stack(photos), meta, batch_size, device)
        for row_index, probs in zip(readable, probabilities):
            best = int(probs.argmax())
            rows[row_index]["predicted_class"] = meta["classes"][best]
            rows[row_index]["probability"] = round(float(probs[best]), 6)
    return rows
