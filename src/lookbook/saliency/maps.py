"""Display maps from input gradients, and per-class averages normalized jointly."""

from __future__ import annotations

import numpy as np

# Maps are scaled by this percentile of their own values, not the maximum, so that a few
# extreme pixels do not leave the rest of the map black.
DISPLAY_PERCENTILE = 99.0


def magnitude(gradients: np.ndarray) -> np.ndarray:
    """Return the saliency magnitude ``[N, H, W]``: the sum of |gradient| over the RGB channels.

    ``gradients`` is float ``[N, 3, H, W]``. This unscaled mass is what the focus share
    and the rank correlations are computed from.
    """
    return np.abs(gradients).sum(axis=1, dtype=np.float32)


def grayscale_map(gradients: np.ndarray) -> np.ndarray:
    """Return grayscale maps ``[N, H, W]`` in [0, 1]: the magnitude over its 99th percentile, clipped.

    An image whose gradient is zero everywhere gets an all-zero map.
    """
    mass = magnitude(gradients)
    scale = np.percentile(mass.reshape(len(mass), -1), DISPLAY_PERCENTILE, axis=1).astype(np.float32)
    scale = np.where(scale > 0, scale, 1.0)[:, None, None]
    return np.clip(mass / scale, 0.0, 1.0)


def colour_map(gradients: np.ndarray) -> np.ndarray:
    """Return colour maps ``[N, H, W, 3]`` in [0, 1] that keep the sign of each channel.

    Zero gradient is mid-grey (0.5). Each image is scaled by the 99th percentile of its
    |gradient| over all channels, so positive and negative values share one scale and
    the hue shows which colour channel would raise the class score.
    """
    scale = np.percentile(np.abs(gradients).reshape(len(gradients), -1), DISPLAY_PERCENTILE, axis=1)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)[:, None, None, None]
    centred = 0.5 + 0.5 * np.clip(gradients / scale, -1.0, 1.0)
    return centred.transpose(0, 2, 3, 1).astype(np.float32)


def to_uint8(maps: np.ndarray) -> np.ndarray:
    """Quantize maps in [0, 1] to uint8 for storage and display."""
    return np.rint(np.clip(maps, 0.0, 1.0) * 255.0).astype(np.uint8)


class ClassAverage:
    """Running per-class sums of grayscale maps, for the mean map of each predicted class."""

    def __init__(self, n_classes: int, height: int, width: int) -> None:
        # float64 sums: thousands of float32 maps would otherwise lose low-order bits.
        self.sums = np.zeros((n_classes, height, width), dtype=np.float64)
        self.counts = np.zeros(n_classes, dtype=np.int64)

    def add(self, maps: np.ndarray, classes: np.ndarray) -> None:
        """Add grayscale maps ``[N, H, W]`` to the sums of their classes ``[N]``."""
        if maps.shape[1:] != self.sums.shape[1:]:
            raise ValueError(f"map shape {maps.shape[1:]} does not match the accumulator's {self.sums.shape[1:]}")
        if len(maps) != len(classes):
            raise ValueError(f"{len(maps)} maps but {len(classes)} class indexes")
        np.add.at(self.sums, classes, maps)
        np.add.at(self.counts, classes, 1)

    def normalized(self) -> np.ndarray:
        """Return the mean map per class ``[C, H, W]``, divided by the largest value over all classes.

        Joint normalization keeps the classes comparable: a class whose maps are
        weaker on average looks weaker. A class with no image is all NaN.
        """
        means = np.full(self.sums.shape, np.nan, dtype=np.float64)
        present = self.counts > 0
        means[present] = self.sums[present] / self.counts[present, None, None]
        peak = np.nanmax(means) if present.any() else np.nan
        if np.isfinite(peak) and peak > 0:
            means /= peak
        return means.astype(np.float32)
