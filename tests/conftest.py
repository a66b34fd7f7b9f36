"""Fixtures shared by all test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Real product photos in the Kaggle layout, kept beside the checkout and never committed.
FASHION_SAMPLE = Path(os.environ.get("LOOKBOOK_FASHION_SAMPLE", REPO_ROOT.parent / "shared" / "fashion-sample"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fashion_sample() -> Path:
    """Directory of real data in the Kaggle layout; the test is skipped when it is absent."""
    if not (FASHION_SAMPLE / "styles.csv").is_file():
        pytest.skip(
            f"real data not found at {FASHION_SAMPLE}; set LOOKBOOK_FASHION_SAMPLE to a directory "
            "with styles.csv and images/"
        )
    return FASHION_SAMPLE
