"""The data stage's steps as plain functions: what each workflow script and the tests call.

``clean_and_decode`` turns a directory in the Kaggle layout into the cleaned table,
the exclusion table and the decoded ``all.npy`` arrays. ``make_splits`` writes the
manifest, and ``build_split_caches`` cuts the arrays into one file per split.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from lookbook.data.cache import decode_all, write_split_caches
from lookbook.data.clean import assign_labels, exclusion_counts, exclusion_table, list_images
from lookbook.data.splits import SPLITS, class_counts, sha256_file, stratified_split
from lookbook.data.styles import COLUMNS, parse_styles
from lookbook.io import read_json, write_json, write_tsv
from lookbook.labels import get_scheme

log = logging.getLogger(__name__)


def clean_and_decode(
    data_dir: str | Path,
    scheme_name: str,
    sizes: Sequence[int],
    resize: str,
    out: dict[str, str | Path],
    threads: int = 1,
    progress: bool = True,
) -> dict:
    """Parse, label and decode the data set in ``data_dir``; returns the summary.

    ``out`` names the output paths: ``clean``, ``exclusions``, ``counts``, ``audit``,
    ``summary``, ``ids`` and ``array_<size>`` for each size.
    """
    data_dir = Path(data_dir)
    scheme = get_scheme(scheme_name)
    styles_path = data_dir / "styles.csv"
    parsed = parse_styles(styles_path)
    listing = list_images(data_dir / "images")
    parse_excluded = {entry["id"] for entry in parsed.exclusions if entry["id"] is not None}
    labelled, label_exclusions = assign_labels(parsed.rows, listing, scheme, parse_excluded)
    log.info(
        "styles.csv: %d rows with an id, %d excluded while parsing; %d image files; %d rows labelled",
        len(parsed.rows), len(parsed.exclusions), len(listing.paths), len(labelled),
    )

    if labelled.empty:
        raise ValueError(
            f"no row of {styles_path} has both an image in {data_dir / 'images'} and a class of the "
            f"{scheme.name} scheme ({len(parsed.rows)} rows, {len(listing.paths)} image files); "
            "check that data_dir is the Kaggle layout and that images are named <id>.jpg"
        )
    items = [(int(product_id), listing.paths[int(product_id)]) for product_id in labelled["id"]]
    audit = decode_all(
        items,
        sizes,
        {size: out[f"array_{size}"] for size in sizes},
        resize=resize,
        threads=threads,
        progress=progress,
    )
    decode_exclusions = [
        {"id": int(row.id), "reason": row.reason, "detail": row.detail} for row in audit.itertuples() if not row.ok
    ]
    ok = audit["ok"].to_numpy()
    clean = labelled[ok].reset_index(drop=True)

    exclusions = exclusion_table(parsed.exclusions + label_exclusions + decode_exclusions)
    counts = exclusion_counts(exclusions)
    write_tsv(out["clean"], clean[[*COLUMNS, "label"]])
    write_tsv(out["exclusions"], exclusions)
    write_tsv(out["counts"], counts)
    write_tsv(out["audit"], audit.drop(columns=["row"]))
    write_tsv(out["ids"], audit[["id", "ok"]])

    used = audit[audit["ok"]]
    summary = {
        "data_dir": str(data_dir.resolve()),
        "styles_sha256": sha256_file(styles_path),
        "image_files": len(listing.paths),
        # Digest of the sorted "name<TAB>bytes" lines of every image file: cheap, and it
        # changes when a file is added, removed or resized. Content hashes of the
        # decoded files are in the audit table.
        "images_digest": _listing_digest(listing.paths),
        "unexpected_files": listing.unexpected,
        "label_scheme": scheme.name,
        "classes": list(scheme.classes),
        "resize": resize,
        "sizes": sorted(sizes),
        "rows": {
            "styles_rows_with_id": len(parsed.rows),
            "rejoined_names": len(parsed.rejoined_ids),
            "invalid_years_emptied": parsed.invalid_years,
            "labelled_with_image": len(labelled),
            "decoded": int(ok.sum()),
            "kept": len(clean),
            "excluded": len(exclusions),
        },
        "exclusions": dict(zip(counts["reason"], counts["count"].astype(int))),
        "converted_to_rgb": {mode: int(n) for mode, n in used["mode"].value_counts().items() if mode != "RGB"},
        "formats": {name: int(n) for name, n in used["format"].value_counts().items()},
        "rejoined_ids": parsed.rejoined_ids,
    }
    write_json(out["summary"], summary)
    log.info("kept %d of %d rows; exclusions by reason: %s", len(clean), len(parsed.rows), summary["exclusions"])
    return summary


def _listing_digest(paths: dict[int, Path]) -> str:
    digest = hashlib.sha256()
    for product_id in sorted(paths):
        path = paths[product_id]
        digest.update(f"{path.name}\t{os.stat(path).st_size}\n".encode())
    return digest.hexdigest()


def make_splits(
    clean_path: str | Path,
    scheme_name: str,
    shares: dict[str, float],
    seed: int,
    out: dict[str, str | Path],
) -> pd.DataFrame:
    """Write ``manifest`` (tsv), ``manifest_json`` and ``class_counts`` from the cleaned table."""
    scheme = get_scheme(scheme_name)
    clean = pd.read_csv(clean_path, sep="\t", usecols=["id", "label"], dtype={"id": "int64", "label": "string"})
    manifest = stratified_split(clean, scheme.classes, shares, seed)
    write_tsv(out["manifest"], manifest)
    counts = class_counts(manifest, scheme.classes)
    write_tsv(out["class_counts"], counts)
    per_split = manifest["split"].value_counts().reindex(list(SPLITS), fill_value=0)
    write_json(
        out["manifest_json"],
        {
            "sha256": sha256_file(out["manifest"]),
            "seed": seed,
            "shares": {name: shares[name] for name in SPLITS},
            "label_scheme": scheme.name,
            "classes": list(scheme.classes),
            "counts": {
                "total": len(manifest),
                "per_split": {name: int(n) for name, n in per_split.items()},
                "per_class": {name: int((manifest["label"] == name).sum()) for name in scheme.classes},
            },
        },
    )
    empty = [name for name in scheme.classes if not (manifest["label"] == name).any()]
    if empty:
        log.warning("classes without any image: %s", empty)
    return manifest


def build_split_caches(
    all_array: str | Path,
    all_ids: str | Path,
    manifest_path: str | Path,
    manifest_json: str | Path,
    size: int,
    resize: str,
    out_dir: str | Path,
) -> dict[str, int]:
    """Cut ``all_array`` into ``{out_dir}/{split}.npy`` and ``{split}.ids.tsv`` per split."""
    ids = pd.read_csv(all_ids, sep="\t", dtype={"id": "int64"})
    manifest = pd.read_csv(manifest_path, sep="\t", dtype={"id": "int64", "label": "string", "split": "string"})
    manifest_meta = read_json(manifest_json)
    meta = {"size": size, "resize": resize, "label_scheme": manifest_meta["label_scheme"], "manifest_sha256": manifest_meta["sha256"]}
    counts = write_split_caches(all_array, ids, manifest, manifest_meta["classes"], out_dir, meta)
    log.info("cache %d px: %s rows", size, counts)
    return counts
