"""Labels and exclusions: image listing, label schemes and the exclusion table."""

from __future__ import annotations

import pandas as pd

from lookbook.data.clean import assign_labels, exclusion_counts, exclusion_table, list_images
from lookbook.data.styles import COLUMNS
from lookbook.labels import get_scheme


def rows_frame(records):
    """Rows in parse_styles' form from (id, gender, masterCategory) triples."""
    frame = pd.DataFrame(
        [{"id": i, "gender": g, "masterCategory": m, **{c: "x" for c in COLUMNS[3:]}} for i, g, m in records]
    )
    frame["gender"] = frame["gender"].astype("string")
    frame["masterCategory"] = frame["masterCategory"].astype("string")
    return frame


def make_images(tmp_path, ids, extra_names=()):
    images = tmp_path / "images"
    images.mkdir()
    for product_id in ids:
        (images / f"{product_id}.jpg").write_bytes(b"x")
    for name in extra_names:
        (images / name).write_bytes(b"x")
    return images


def test_list_images_indexes_by_id(tmp_path):
    images = make_images(tmp_path, [3, 10], extra_names=["notes.txt", "abc.jpg", "12.JPG", ".DS_Store"])
    listing = list_images(images)
    assert sorted(listing.paths) == [3, 10, 12]
    assert listing.unexpected == ["abc.jpg", "notes.txt"]


def test_assign_labels_study_scheme(tmp_path):
    listing = list_images(make_images(tmp_path, [1, 2, 3, 4, 5, 6]))
    rows = rows_frame(
        [(1, "Men", "Apparel"), (2, "Boys", "Footwear"), (3, "Girls", "Accessories"), (4, "Women", "Personal Care"), (5, "Unisex", "Apparel"), (6, "Women", "Free Items")]
    )
    labelled, exclusions = assign_labels(rows, listing, get_scheme("gender_master"))
    assert labelled.set_index("id")["label"].to_dict() == {
        1: "Men Apparel",
        2: "Men Other",
        3: "Women Accessories",
        4: "Women Other",
        6: "Women Other",
    }
    assert exclusions == [{"id": 5, "reason": "unisex", "detail": "gender=Unisex, masterCategory=Apparel"}]


def test_assign_labels_master_category_scheme(tmp_path):
    listing = list_images(make_images(tmp_path, [1, 2]))
    rows = rows_frame([(1, "Unisex", "Footwear"), (2, "Men", "Home")])
    labelled, exclusions = assign_labels(rows, listing, get_scheme("master_category"))
    assert labelled["label"].tolist() == ["Footwear", "Home"]
    assert exclusions == []


def test_assign_labels_missing_image_and_orphan_file(tmp_path):
    listing = list_images(make_images(tmp_path, [1, 99]))
    rows = rows_frame([(1, "Men", "Apparel"), (2, "Men", "Apparel")])
    labelled, exclusions = assign_labels(rows, listing, get_scheme("gender_master"))
    reasons = {entry["id"]: entry["reason"] for entry in exclusions}
    assert labelled["id"].tolist() == [1]
    assert reasons == {2: "missing_image", 99: "no_metadata_row"}


def test_assign_labels_missing_gender(tmp_path):
    listing = list_images(make_images(tmp_path, [1]))
    rows = rows_frame([(1, None, "Apparel")])
    labelled, exclusions = assign_labels(rows, listing, get_scheme("gender_master"))
    assert labelled.empty
    assert exclusions[0]["reason"] == "missing_label_value"
    assert exclusions[0]["detail"] == "empty gender"


def test_assign_labels_parse_excluded_not_orphans(tmp_path):
    listing = list_images(make_images(tmp_path, [1, 7]))
    rows = rows_frame([(1, "Men", "Apparel")])
    _, exclusions = assign_labels(rows, listing, get_scheme("gender_master"), excluded_ids={7})
    assert exclusions == []


def test_exclusion_counts_per_reason():
    table = exclusion_table(
        [
            {"id": 5, "reason": "unisex", "detail": ""},
            {"id": 2, "reason": "unisex", "detail": ""},
            {"id": None, "reason": "invalid_id", "detail": "line 3"},
            {"id": 9, "reason": "truncated", "detail": ""},
        ]
    )
    counts = exclusion_counts(table)
    assert pd.isna(table.loc[table["reason"] == "invalid_id", "id"].iloc[0])
    assert table.loc[table["reason"] == "unisex", "id"].tolist() == [2, 5]
    assert counts.to_dict("records") == [
        {"reason": "unisex", "count": 2},
        {"reason": "invalid_id", "count": 1},
        {"reason": "truncated", "count": 1},
    ]
