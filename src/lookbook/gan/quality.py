"""Quality of generated images, measured in the feature space of the trained classifier.

FID here is the Frechet distance between Gaussians fitted to the classifier's
penultimate-layer features (Heusel et al. 2017 define it on Inception-v3 pool features).
Because Inception weights cannot be fetched in this build, the numbers are comparable
within one run, between subsets and against the real-vs-real floor, but not with
published FIDs.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
import torch
from sklearn.neighbors import NearestNeighbors
from torch import nn

from lookbook.classifier.features import to_model_input

log = logging.getLogger(__name__)

FID_LABEL = (
    "FID in the feature space of this run's classifier; not comparable to published "
    "Inception-based FIDs (Inception weights cannot be fetched here)"
)


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean ``[D]`` and covariance ``[D, D]`` of features ``[N, D]``, in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"feature statistics need at least 2 feature rows [N, D], got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Return the Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)), computed as in
    pytorch-fid: when the product is singular (fewer samples than feature dimensions),
    ``eps`` is added to both diagonals before the matrix square root.
    """
    diff = mu1 - mu2
    # SciPy 1.16 deprecated sqrtm's ``disp`` argument, so it is called without it.
    with warnings.catch_warnings():
        # A singular product is expected with few samples; fid() logs that case itself.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        log.warning("sqrtm of the covariance product is not finite; adding %g to the diagonals", eps)
        offset = np.eye(len(sigma1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        # Round-off leaves a tiny imaginary part; a large one means the result is wrong.
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            largest = np.max(np.abs(np.diagonal(covmean).imag))
            raise ValueError(f"sqrtm of the covariance product has an imaginary diagonal component of {largest:.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Return the FID between two feature sets ``[N, D]`` and ``[M, D]``.

    NOTE: FID is biased upwards for small N and M (below a few thousand), so compare
    values only between sets of similar size.
    """
    dimension = np.shape(features_a)[1]
    if min(len(features_a), len(features_b)) <= dimension:
        log.warning(
            "FID from %d and %d images in %d feature dimensions: the covariances are singular, "
            "so the value is a rough, upward-biased estimate",
            len(features_a), len(features_b), dimension,
        )
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


@torch.no_grad()
def predict_logits(
    model: nn.Module, images_uint8_nhwc: np.ndarray, meta: dict[str, Any], batch_size: int, device: torch.device
) -> np.ndarray:
    """Return the classifier's logits, float32 ``[N, C]``, for uint8 images ``[N, H, W, 3]``.

    The images go through the classifier's own preprocessing (resize to
    ``meta["image_size"]``, normalize with ``meta["mean"]`` and ``meta["std"]``).
    """
    model.eval().to(device)
    parts = []
    for start in range(0, len(images_uint8_nhwc), batch_size):
        batch = to_model_input(images_uint8_nhwc[start : start + batch_size], meta, device)
        parts.append(model(batch).float().cpu())
    if not parts:
        return np.zeros((0, len(meta["classes"])), dtype=np.float32)
    return torch.cat(parts).numpy()


def class_shares(predicted: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    """Return the share of ``predicted`` class indexes that falls on each class name."""
    counts = np.bincount(np.asarray(predicted, dtype=np.int64), minlength=len(classes))
    total = max(int(counts.sum()), 1)
    return {name: float(count / total) for name, count in zip(classes, counts)}


def agreement(predicted: np.ndarray, class_index: int) -> float | None:
    """Return the share of ``predicted`` equal to ``class_index``, or None when empty."""
    predicted = np.asarray(predicted)
    if len(predicted) == 0:
        return None
    return float(np.mean(predicted == class_index))


def nearest_neighbours(queries: np.ndarray, gallery: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``k`` nearest gallery rows of each query by cosine distance.

    Both inputs are features ``[Q, D]`` and ``[G, D]``; they are L2-normalized first, so
    the Euclidean search ranks like cosine similarity. Returns row indexes ``[Q, k]``
    into ``gallery`` and cosine distances (1 - cosine similarity) ``[Q, k]``, nearest first.
    """
    k = min(k, len(gallery))
    search = NearestNeighbors(n_neighbors=k).fit(_l2_normalize(gallery))
    euclidean, indexes = search.kneighbors(_l2_normalize(queries))
    # For unit vectors |a - b|^2 = 2 (1 - cos), so the cosine distance is half the square.
    return indexes, euclidean**2 / 2


def _l2_normalize(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)
