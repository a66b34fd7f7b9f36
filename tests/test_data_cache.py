"""The image cache: parallel decoding into memory-mapped arrays, split files and load_split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lookbook.data.cache import decode_all, load_split, write_split_caches

CLASSES = ["Men Apparel", "Women Apparel"]


def write_jpeg(path, colour, size=(60, 80)):
    Image.new("RGB", size, colour).save(path, quality=95)


@pytest.fixture
def image_items(tmp_path):
    """Six images: four JPEGs of distinct colours, one zero-byte file, one missing path."""
    images = tmp_path / "images"
    images.mkdir()
    colours = {11: (250, 0, 0), 12: (0, 250, 0), 13: (0, 0, 250), 14: (250, 250, 0)}
    for product_id, colour in colours.items():
        write_jpeg(images / f"{product_id}.jpg", colour)
    (images / "15.jpg").write_bytes(b"")
    items = [(product_id, images / f"{product_id}.jpg") for product_id in (11, 12, 13, 14, 15, 16)]
    return items, colours


def test_decode_all_writes_rows_in_order(tmp_path, image_items):
    items, colours = image_items
    paths = {16: tmp_path / "16" / "all.npy", 32: tmp_path / "32" / "all.npy"}
    audit = decode_all(items, [16, 32], paths, threads=2, progress=False)
    small = np.load(paths[16])
    assert small.shape == (6, 16, 16, 3)
    assert np.load(paths[32]).shape == (6, 32, 32, 3)
    for row, product_id in enumerate((11, 12, 13, 14)):
        assert np.abs(small[row, 8, 8].astype(int) - colours[product_id]).max() <= 4
    assert audit["id"].tolist() == [11, 12, 13, 14, 15, 16]
    assert audit["ok"].tolist() == [True, True, True, True, False, False]
    assert audit["reason"].tolist()[4:] == ["empty_file", "missing_image"]


def test_decode_all_failed_rows_are_white(tmp_path, image_items):
    items, _ = image_items
    paths = {16: tmp_path / "all.npy"}
    decode_all(items, [16], paths, threads=1, progress=False)
    assert np.load(paths[16])[4].min() == 255


def test_decode_all_threads_match_serial(tmp_path, image_items):
    items, _ = image_items
    serial = {16: tmp_path / "a.npy"}
    parallel = {16: tmp_path / "b.npy"}
    audit_serial = decode_all(items, [16], serial, threads=1, progress=False)
    audit_parallel = decode_all(items, [16], parallel, threads=3, progress=False)
    assert np.array_equal(np.load(serial[16]), np.load(parallel[16]))
    pd.testing.assert_frame_equal(audit_serial, audit_parallel)


def test_decode_all_records_mode_and_hash(tmp_path, image_items):
    items, _ = image_items
    audit = decode_all(items, [16], {16: tmp_path / "all.npy"}, progress=False)
    first = audit.iloc[0]
    assert first["format"] == "JPEG"
    assert first["mode"] == "RGB"
    assert (first["width"], first["height"]) == (60, 80)
    assert len(first["sha256"]) == 64


def test_decode_all_leaves_no_temp_files(tmp_path, image_items):
    items, _ = image_items
    decode_all(items, [16], {16: tmp_path / "out" / "all.npy"}, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["all.npy"]


def build_cache(tmp_path):
    """A 16 px cache of five images whose pixel values equal their row in all.npy."""
    all_array = tmp_path / "all.npy"
    np.save(all_array, np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones((1, 16, 16, 3), dtype=np.uint8))
    all_ids = pd.DataFrame({"id": [50, 40, 30, 20, 10]})
    manifest = pd.DataFrame(
        {
            "id": [10, 20, 30, 40, 50],
            "label": ["Women Apparel", "Men Apparel", "Men Apparel", "Women Apparel", "Men Apparel"],
            "split": ["train", "test", "train", "val", "train"],
        }
    )
    out_dir = tmp_path / "cache" / "16"
    counts = write_split_caches(all_array, all_ids, manifest, CLASSES, out_dir, {"size": 16})
    return counts


def test_write_split_caches_manifest_order(tmp_path):
    counts = build_cache(tmp_path)
    train = load_split(tmp_path / "cache", 16, "train")
    assert counts == {"train": 3, "val": 1, "test": 1}
    assert train.ids.tolist() == [10, 30, 50]
    assert train.images[:, 0, 0, 0].tolist() == [4, 2, 0]
    assert train.labels.tolist() == [1, 0, 0]
    assert train.classes == CLASSES


def test_load_split_memory_maps(tmp_path):
    build_cache(tmp_path)
    split = load_split(tmp_path / "cache", 16, "val")
    assert isinstance(split.images, np.memmap)
    assert split.images.dtype == np.uint8
    assert split.ids.dtype == np.int64
    assert split.labels.dtype == np.int64


def test_load_split_meta_json(tmp_path):
    build_cache(tmp_path)
    meta = json.loads((tmp_path / "cache" / "16" / "meta.json").read_text())
    assert meta["rows"] == {"train": 3, "val": 1, "test": 1}
    assert meta["classes"] == CLASSES


def test_load_split_missing_names_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="snakemake results/cache/64/train.npy"):
        load_split(tmp_path, 64, "train")


def test_load_split_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="train"):
        load_split(tmp_path, 64, "validation")


def test_write_split_caches_missing_id_raises(tmp_path):
    all_array = tmp_path / "all.npy"
    np.save(all_array, np.zeros((1, 16, 16, 3), dtype=np.uint8))
    manifest = pd.DataFrame({"id": [1, 2], "label": ["Men Apparel"] * 2, "split": ["train"] * 2})
    with pytest.raises(ValueError, match="rerun the decode step"):
        write_split_caches(all_array, pd.DataFrame({"id": [1]}), manifest, CLASSES, tmp_path / "c" / "16", {})


@pytest.mark.parametrize("source_size", [(1800, 2400), (60, 80)])
def test_decode_all_full_and_small_sets(tmp_path, source_size):
    # The Kaggle set comes as 1800x2400 originals and as a 60x80 "small" variant.
    path = tmp_path / "1.jpg"
    write_jpeg(path, (0, 0, 250), size=source_size)
    paths = {224: tmp_path / "224.npy", 64: tmp_path / "64.npy"}
    audit = decode_all([(1, path)], [224, 64], paths, progress=False)
    large = np.load(paths[224])
    assert audit["ok"].tolist() == [True]
    assert large.shape == (1, 224, 224, 3)
    assert np.abs(large[0, 112, 112].astype(int) - (0, 0, 250)).max() <= 4
    assert large[0, 112, 2].min() >= 250
    assert np.load(paths[64]).shape == (1, 64, 64, 3)
