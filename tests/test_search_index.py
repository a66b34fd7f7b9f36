"""Index build, save and load, and exact cosine top-k search, on synthetic embeddings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lookbook.search.index import SearchIndexError, build_index, l2_normalize, load_index, save_index
from lookbook.search.query import search, top_k_rows


def make_metadata(ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ids,
            "gender": "Men",
            "label": ["Men Apparel" if i % 2 else "Women Other" for i in ids],
            "articleType": ["Tshirts" if i % 3 else "Watches" for i in ids],
            "baseColour": ["Blue" if i % 5 else "" for i in ids],
            "productDisplayName": [f"Product, number {i}" for i in ids],
        }
    )


@pytest.fixture
def gallery() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = np.arange(1000, 1200, dtype=np.int64)
    return ids, rng.normal(size=(len(ids), 16)).astype(np.float32)


def test_build_index_normalizes_rows(gallery):
    ids, embeddings = gallery
    index = build_index(ids, embeddings * 7.0, make_metadata(ids))
    norms = np.linalg.norm(index.embeddings, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-6)
    assert index.embeddings.dtype == np.float32


def test_build_index_aligns_metadata_to_ids(gallery):
    ids, embeddings = gallery
    shuffled = make_metadata(ids).sample(frac=1.0, random_state=1)
    index = build_index(ids, embeddings, shuffled)
    assert index.metadata["id"].tolist() == ids.tolist()


def test_build_index_rejects_id_without_metadata(gallery):
    ids, embeddings = gallery
    with pytest.raises(SearchIndexError, match="no metadata row"):
        build_index(ids, embeddings, make_metadata(ids[1:]))


def test_build_index_rejects_repeated_id(gallery):
    ids, embeddings = gallery
    ids = ids.copy()
    ids[5] = ids[4]
    with pytest.raises(SearchIndexError, match="repeat"):
        build_index(ids, embeddings, make_metadata(ids))


def test_build_index_rejects_nan_embedding(gallery):
    ids, embeddings = gallery
    embeddings = embeddings.copy()
    embeddings[3, 2] = np.nan
    with pytest.raises(SearchIndexError, match=str(ids[3])):
        build_index(ids, embeddings, make_metadata(ids))


def test_build_index_rejects_shape_mismatch(gallery):
    ids, embeddings = gallery
    with pytest.raises(SearchIndexError, match="shape"):
        build_index(ids, embeddings[:-1], make_metadata(ids))


def test_save_load_round_trip(gallery, tmp_path):
    ids, embeddings = gallery
    model = tmp_path / "classifier" / "best.pt"
    model.parent.mkdir()
    model.write_bytes(b"weights")
    info = {"kind": "network", "image_size": 32, "resize": "pad", "model": str(model)}
    index = build_index(ids, embeddings, make_metadata(ids), info)
    save_index(index, tmp_path / "search" / "index.npz")

    loaded = load_index(tmp_path / "search" / "index.npz")
    assert np.array_equal(loaded.ids, ids)
    assert np.array_equal(loaded.embeddings, index.embeddings)
    assert loaded.metadata["productDisplayName"].iloc[0] == "Product, number 1000"
    assert loaded.metadata["baseColour"].iloc[0] == ""
    assert loaded.info["image_size"] == 32
    assert loaded.info["model"] == str(model.resolve())


def test_saved_index_stores_model_path_relative(gallery, tmp_path):
    ids, embeddings = gallery
    model = tmp_path / "classifier" / "best.pt"
    index = build_index(ids, embeddings, make_metadata(ids), {"model": str(model)})
    save_index(index, tmp_path / "search" / "index.npz")
    with np.load(tmp_path / "search" / "index.npz", allow_pickle=False) as arrays:
        info = json.loads(str(arrays["info"]))
    assert info["model"] == "../classifier/best.pt"


def test_load_index_rejects_mismatched_tsv(gallery, tmp_path):
    ids, embeddings = gallery
    save_index(build_index(ids, embeddings, make_metadata(ids)), tmp_path / "index.npz")
    make_metadata(ids[:10]).to_csv(tmp_path / "index.tsv", sep="\t", index=False)
    with pytest.raises(SearchIndexError, match="different builds"):
        load_index(tmp_path / "index.npz")


def test_load_index_missing_file_names_path(tmp_path):
    with pytest.raises(SearchIndexError, match="index.npz"):
        load_index(tmp_path / "index.npz")


def test_search_gallery_query_finds_itself(gallery):
    ids, embeddings = gallery
    unit = l2_normalize(embeddings)
    found = search(unit, unit[[7, 42, 199]], k=5)
    assert found.indices[:, 0].tolist() == [7, 42, 199]
    assert np.allclose(found.scores[:, 0], 1.0, atol=1e-5)


def test_search_results_sorted_descending(gallery):
    ids, embeddings = gallery
    unit = l2_normalize(embeddings)
    found = search(unit, unit[:20] + 0.1, k=12)
    assert (np.diff(found.scores, axis=1) <= 0).all()


def test_search_matches_full_sort(gallery):
    ids, embeddings = gallery
    unit = l2_normalize(embeddings)
    queries = l2_normalize(np.random.default_rng(3).normal(size=(300, 16)))
    found = search(unit, queries, k=10)
    expected = np.argsort(-(queries @ unit.T), axis=1, kind="stable")[:, :10]
    assert np.array_equal(found.indices, expected)


def test_search_k_above_gallery_size(gallery):
    ids, embeddings = gallery
    unit = l2_normalize(embeddings)
    found = search(unit, unit[:2], k=5000)
    assert found.indices.shape == (2, 200)
    assert sorted(found.indices[0].tolist()) == list(range(200))


def test_search_excludes_query_own_id(gallery):
    ids, embeddings = gallery
    unit = l2_normalize(embeddings)
    found = search(unit, unit[[3]], k=500, gallery_ids=ids, query_ids=ids[[3]])
    assert found.indices.shape == (1, 199)
    assert 3 not in found.indices[0].tolist()


def test_search_rejects_dimension_mismatch(gallery):
    ids, embeddings = gallery
    with pytest.raises(ValueError, match="gallery has 16"):
        search(l2_normalize(embeddings), np.ones((1, 8), dtype=np.float32), k=3)


def test_search_rejects_zero_k(gallery):
    ids, embeddings = gallery
    with pytest.raises(ValueError, match="k=0"):
        search(l2_normalize(embeddings), l2_normalize(embeddings[:1]), k=0)


def test_top_k_rows_breaks_ties_by_index():
    scores = np.array([[0.5, 0.9, 0.5, 0.9, 0.1]], dtype=np.float32)
    indices, values = top_k_rows(scores, 4)
    assert indices[0].tolist() == [1, 3, 0, 2]
    assert values[0].tolist() == [pytest.approx(0.9), pytest.approx(0.9), 0.5, 0.5]


def test_search_no_queries_returns_empty(gallery):
    ids, embeddings = gallery
    found = search(l2_normalize(embeddings), np.empty((0, 16), dtype=np.float32), k=4)
    assert found.indices.shape == (0, 4)
    assert found.scores.shape == (0, 4)
