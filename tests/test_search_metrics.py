"""Retrieval metrics checked against scikit-learn, and the raw-pixel baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from lookbook.search.index import l2_normalize
from lookbook.search.metrics import METRIC_COLUMNS, centre_and_normalize, pixel_embeddings, retrieval_metrics

# The metrics table is rounded to four decimals.
TABLE_ROUNDING = 5e-5


def make_metadata(ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ids,
            "label": rng.choice(["Men Apparel", "Women Apparel", "Men Other"], size=len(ids)),
            "articleType": rng.choice(["Tshirts", "Watches", "Heels", "Socks"], size=len(ids)),
            "baseColour": rng.choice(["Blue", "Black", "White"], size=len(ids)),
        }
    )


@pytest.fixture
def problem():
    rng = np.random.default_rng(5)
    gallery_ids = np.arange(300, dtype=np.int64)
    query_ids = np.arange(1000, 1040, dtype=np.int64)
    gallery = l2_normalize(rng.normal(size=(300, 8)))
    queries = l2_normalize(rng.normal(size=(40, 8)))
    return gallery, make_metadata(gallery_ids, rng), queries, make_metadata(query_ids, rng)


def reference_metrics(gallery, gallery_meta, queries, query_meta, column, k):
    """Per-query precision@k and AP from scikit-learn, without self matches."""
    precisions, average_precisions = [], []
    for row in range(len(queries)):
        scores = gallery @ queries[row]
        relevant = (gallery_meta[column] == query_meta[column].iloc[row]).to_numpy()
        keep = gallery_meta["id"].to_numpy() != query_meta["id"].iloc[row]
        scores, relevant = scores[keep], relevant[keep]
        if not relevant.any():
            continue
        top = np.argsort(-scores, kind="stable")[:k]
        precisions.append(relevant[top].mean())
        average_precisions.append(average_precision_score(relevant, scores))
    return np.mean(precisions), np.mean(average_precisions), len(precisions)


@pytest.mark.parametrize("column", ["label", "articleType", "baseColour"])
def test_metrics_match_sklearn(problem, column):
    gallery, gallery_meta, queries, query_meta = problem
    table = retrieval_metrics(gallery, gallery_meta, queries, query_meta, k=10, method="network")
    row = table.set_index("criterion").loc[column]
    precision, mean_ap, count = reference_metrics(gallery, gallery_meta, queries, query_meta, column, 10)
    assert row["precision_at_k"] == pytest.approx(precision, abs=TABLE_ROUNDING)
    assert row["mean_average_precision"] == pytest.approx(mean_ap, abs=TABLE_ROUNDING)
    assert row["queries"] == count


def test_metrics_table_columns(problem):
    table = retrieval_metrics(*problem, k=5, method="pixels")
    assert list(table.columns) == METRIC_COLUMNS
    assert table["criterion"].tolist() == ["label", "articleType", "baseColour"]
    assert (table["method"] == "pixels").all()


def test_metrics_perfect_embedding_scores_one():
    # Each class is one direction, so every relevant image outranks every other one.
    labels = np.repeat(["a", "b", "c"], 20)
    directions = np.eye(3, dtype=np.float32)[np.repeat([0, 1, 2], 20)]
    meta = pd.DataFrame({"id": np.arange(60), "label": labels})
    queries_meta = pd.DataFrame({"id": np.arange(100, 103), "label": ["a", "b", "c"]})
    table = retrieval_metrics(directions, meta, np.eye(3, dtype=np.float32), queries_meta, 10, "network", ("label",))
    assert table["precision_at_1"].iloc[0] == pytest.approx(1.0)
    assert table["precision_at_k"].iloc[0] == pytest.approx(1.0)
    assert table["mean_average_precision"].iloc[0] == pytest.approx(1.0)
    assert table["chance_precision"].iloc[0] == pytest.approx(1 / 3, abs=TABLE_ROUNDING)


def test_metrics_skip_query_own_row():
    gallery = np.eye(4, dtype=np.float32)
    meta = pd.DataFrame({"id": [1, 2, 3, 4], "label": ["a", "b", "a", "b"]})
    table = retrieval_metrics(gallery, meta, gallery[:1], meta.iloc[:1], 3, "network", ("label",))
    # Without the skip, the query would match itself at rank 1 with similarity 1. The
    # other rows tie at 0 and keep gallery order, so the one relevant row, id 3, is second.
    assert table["precision_at_1"].iloc[0] == 0.0
    assert table["mean_average_precision"].iloc[0] == pytest.approx(1 / 2)
    assert table["k"].iloc[0] == 3


def test_metrics_count_query_without_match():
    gallery = np.eye(3, dtype=np.float32)
    meta = pd.DataFrame({"id": [1, 2, 3], "articleType": ["Tshirts", "Tshirts", "Watches"]})
    query_meta = pd.DataFrame({"id": [10, 11, 12], "articleType": ["Tshirts", "Heels", ""]})
    table = retrieval_metrics(gallery, meta, gallery, query_meta, 2, "network", ("articleType",))
    assert table["queries"].iloc[0] == 1
    assert table["queries_without_match"].iloc[0] == 2


def test_pixel_embeddings_shape_and_range():
    images = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    images[1] = 255
    vectors = pixel_embeddings(images, 4)
    assert vectors.shape == (3, 48)
    assert vectors.dtype == np.float32
    assert vectors[1].min() == pytest.approx(1.0)
    assert vectors[0].max() == 0.0


def test_pixel_embeddings_average_area():
    image = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    image[0, :2, :2] = 200  # top-left quarter
    vectors = pixel_embeddings(image, 2).reshape(2, 2, 3)
    assert vectors[0, 0, 0] == pytest.approx(200 / 255)
    assert vectors[1, 1, 0] == 0.0


def test_pixel_embeddings_rejects_grayscale():
    with pytest.raises(ValueError, match=r"\[N, S, S, 3\]"):
        pixel_embeddings(np.zeros((2, 8, 8), dtype=np.uint8), 4)


def test_centre_and_normalize_uses_gallery_mean():
    gallery = np.array([[1.0, 1.0], [3.0, 1.0]], dtype=np.float32)
    queries = np.array([[2.0, 5.0]], dtype=np.float32)
    gallery_unit, query_unit = centre_and_normalize(gallery, queries)
    assert np.allclose(gallery_unit, [[-1.0, 0.0], [1.0, 0.0]])
    assert np.allclose(query_unit, [[0.0, 1.0]])
