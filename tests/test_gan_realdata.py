"""The DCGAN on real product photos: a slice of the sample data, decoded to 64 px."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lookbook.data.images import decode_image, fit_square
from lookbook.gan.train import GanConfig, train

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def photos(fashion_sample):
    """The first 64 apparel photos with an image file, as uint8 [64, 64, 64, 3]."""
    styles = pd.read_csv(fashion_sample / "styles.csv")
    apparel = styles[styles["masterCategory"] == "Apparel"]["id"]
    paths = [fashion_sample / "images" / f"{product}.jpg" for product in apparel]
    paths = [path for path in paths if path.is_file()][:64]
    return np.stack([fit_square(decode_image(path, 64).rgb, 64, "pad") for path in paths])


def test_train_on_real_photos_finite_losses(photos):
    config = GanConfig(epochs=1, batch_size=32, nz=32, ngf=8, ndf=8)
    result = train(photos, config, None, torch.device("cpu"))
    assert photos.shape == (64, 64, 64, 3)
    assert result.status == "trained"
    assert len(result.losses) == 2
    assert np.isfinite(result.losses[["loss_d", "loss_g"]].to_numpy()).all()
    assert result.grids[0].std() > 0
