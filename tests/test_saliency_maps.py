"""Display maps, per-class averages and the focus share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lookbook.saliency.focus import focus_share, focus_table, foreground_mask
from lookbook.saliency.maps import ClassAverage, colour_map, grayscale_map, magnitude, to_uint8


def test_magnitude_sums_absolute_channels():
    gradients = np.zeros((1, 3, 2, 2), dtype=np.float32)
    gradients[0, :, 0, 0] = [1.0, -2.0, 0.5]
    assert magnitude(gradients)[0, 0, 0] == 3.5
    assert magnitude(gradients)[0, 1, 1] == 0.0


def test_grayscale_map_scales_by_99th_percentile():
    # 100 pixels have magnitudes 0..99. The 99th percentile is 98.01, so 99 clips to 1.
    gradients = np.zeros((1, 3, 10, 10), dtype=np.float32)
    gradients[0, 0] = np.arange(100, dtype=np.float32).reshape(10, 10)
    gray = grayscale_map(gradients)
    assert gray.shape == (1, 10, 10)
    assert gray[0, 0, 0] == 0.0
    assert gray[0, 9, 9] == 1.0
    assert gray[0, 5, 0] == pytest.approx(50 / 98.01)


def test_grayscale_map_zero_gradient_is_zero():
    gray = grayscale_map(np.zeros((2, 3, 4, 4), dtype=np.float32))
    assert np.all(gray == 0.0)


def test_colour_map_keeps_sign_around_grey():
    gradients = np.zeros((1, 3, 10, 10), dtype=np.float32)
    gradients[0, 0, 0, 0] = 4.0
    gradients[0, 2, 0, 1] = -4.0
    gradients[0, 1, 1:, :] = 0.01  # keeps the 99th percentile of |gradient| below 4
    colour = colour_map(gradients)
    assert colour.shape == (1, 10, 10, 3)
    assert colour[0, 0, 0, 0] == 1.0
    assert colour[0, 0, 1, 2] == 0.0
    assert colour[0, 0, 0, 1] == 0.5


def test_to_uint8_rounds_and_clips():
    assert to_uint8(np.array([0.0, 0.5, 1.2, -0.1])).tolist() == [0, 128, 255, 0]


def test_class_average_normalizes_jointly():
    average = ClassAverage(3, 1, 2)
    average.add(np.array([[[1.0, 0.0]], [[0.5, 0.0]]]), np.array([0, 0]))
    average.add(np.array([[[0.25, 0.25]]]), np.array([1]))
    maps = average.normalized()
    # Class 0 mean (0.75, 0) is the global peak, and class 1 mean (0.25, 0.25) is scaled by it.
    assert maps[0].ravel().tolist() == [1.0, 0.0]
    assert maps[1].ravel().tolist() == pytest.approx([1 / 3, 1 / 3])
    assert np.isnan(maps[2]).all()
    assert average.counts.tolist() == [2, 1, 0]


def test_class_average_rejects_wrong_shape():
    average = ClassAverage(2, 4, 4)
    with pytest.raises(ValueError, match="does not match"):
        average.add(np.zeros((1, 3, 3)), np.array([0]))


def test_foreground_mask_uses_all_channels():
    images = np.full((1, 1, 4, 3), 255, dtype=np.uint8)
    images[0, 0, 1] = [240, 240, 234]  # one channel below 235: foreground
    images[0, 0, 2] = [235, 235, 235]  # all at the threshold: background
    images[0, 0, 3] = [0, 0, 0]
    assert foreground_mask(images, 235)[0, 0].tolist() == [False, True, False, True]


def test_foreground_mask_rejects_threshold_out_of_range():
    with pytest.raises(ValueError, match="256"):
        foreground_mask(np.zeros((1, 2, 2, 3), np.uint8), 256)


def test_focus_share_counts_mass_inside_mask():
    mass = np.array([[[3.0, 1.0]], [[0.0, 0.0]]])
    mask = np.array([[[True, False]], [[True, False]]])
    share = focus_share(mass, mask)
    assert share[0] == 0.75
    assert np.isnan(share[1])


def test_focus_table_per_class_and_all():
    per_image = pd.DataFrame(
        {
            "predicted_label": ["A", "A", "B", "B"],
            "focus": [0.8, 0.6, np.nan, 0.9],
            "foreground_area": [0.5, 0.5, 0.3, 0.3],
        }
    )
    table = focus_table(per_image, ["A", "B", "C"]).set_index("predicted_label")
    assert table.loc["A", "n_images"] == 2
    assert table.loc["A", "focus_mean"] == pytest.approx(0.7)
    assert table.loc["A", "focus_over_area"] == pytest.approx(1.4)
    assert table.loc["B", "n_without_saliency"] == 1
    assert table.loc["B", "focus_mean"] == pytest.approx(0.9)
    assert table.loc["C", "n_images"] == 0
    assert np.isnan(table.loc["C", "focus_mean"])
    assert table.loc["all", "n_images"] == 4
    assert table.loc["all", "focus_mean"] == pytest.approx((0.8 + 0.6 + 0.9) / 3)
