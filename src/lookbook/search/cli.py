"""``lookbook similar``: the products in a search index that look most like a photo."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

# Side in pixels of each photo on a contact sheet.
SHEET_SIZE = 160
OUTPUT_COLUMNS = ["rank", "id", "similarity", "articleType", "baseColour", "label", "productDisplayName"]


class QueryError(Exception):
    """A query that cannot be run; the message names the value and the fix."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "similar",
        help="find the indexed products most similar to a photo",
        description=(
            "Embed QUERY with the classifier the index was built with and print its k nearest "
            "gallery products by cosine similarity, most similar first."
        ),
    )
    parser.add_argument("query", metavar="QUERY", type=Path, help="photo to search with (JPEG, PNG or any format Pillow reads)")
    parser.add_argument(
        "--index", required=True, type=Path, help="index.npz written by the workflow, with index.tsv beside it"
    )
    parser.add_argument("-k", type=int, default=8, help="number of neighbours to print (default: 8)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv", help="output format on stdout (default: csv)")
    parser.add_argument("--sheet", type=Path, help="also write a PNG contact sheet: the query beside its neighbours")
    parser.add_argument("--model", type=Path, help="classifier checkpoint; default: the best.pt the index records")
    parser.add_argument("--images", type=Path, help="directory of <id>.jpg for the sheet; default: the one the index records")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="torch device (default: auto)")
    parser.set_defaults(func=run_similar)


def run_similar(args: argparse.Namespace) -> int:
    from lookbook.search.index import SearchIndexError

    try:
        if args.k < 1:
            raise QueryError(f"-k {args.k} is invalid; request at least one neighbour")
        results, index = find_similar(args.index, args.query, args.k, args.model, args.device)
    except (QueryError, SearchIndexError) as error:
        log.error("%s", error)
        return 2

    if args.format == "json":
        payload = {"query": str(args.query), "index": str(args.index), "results": results.to_dict(orient="records")}
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        results.to_csv(sys.stdout, index=False, float_format="%.4f")

    if args.sheet:
        images_dir = args.images or index.info.get("images_dir")
        write_sheet(args.sheet, args.query, results, images_dir, index.info.get("resize", "pad"))
        log.info("contact sheet written to %s", args.sheet)
    return 0


def find_similar(index_path: Path, query_path: Path, k: int, model_path: Path | None, device_request: str):
    """Embed the photo at ``query_path`` and return (neighbours table, index).

    The photo goes through the cache's decoding and square resize (the index records the
    side and mode), then the classifier's preprocessing, so it is embedded exactly like
    the gallery. Raises QueryError for an unreadable photo or a missing or mismatched model.
    """
    from lookbook.classifier.features import embed
    from lookbook.classifier.models import ModelFileError, load_trained
    from lookbook.data.images import ImageError, decode_image, fit_square
    from lookbook.device import pick_device
    from lookbook.search.index import l2_normalize, load_index
    from lookbook.search.pipeline import file_sha256
    from lookbook.search.query import search

    index = load_index(index_path)
    size = int(index.info.get("image_size", 0))
    resize = index.info.get("resize", "pad")
    if index.info.get("kind") != "network" or size < 1:
        raise QueryError(f"{index_path} does not record a classifier and image size; rebuild it with the workflow")

    # The cache decodes a JPEG once, DCT-scaled for its largest size, and resizes from
    # there. Decoding the query for that same size gives the same pixels.
    decode_size = int(index.info.get("decode_size", size))
    try:
        decoded = decode_image(query_path, target=decode_size, resize=resize)
    except ImageError as error:
        # The detail starts with the path, so the message names the file once.
        raise QueryError(f"query image cannot be read ({error.reason}): {error.detail}") from None
    query_image = fit_square(decoded.rgb, size, resize)

    model_file = model_path or Path(index.info["model"])
    if not model_file.is_file():
        raise QueryError(f"classifier checkpoint {model_file} not found; pass the index's best.pt with --model")
    if model_path is None and index.info.get("model_sha256") not in (None, file_sha256(model_file)):
        raise QueryError(
            f"{model_file} changed since the index was built, so its features do not match the index; "
            "rebuild the index (snakemake results/search/index.npz)"
        )
    device = pick_device(device_request)
    try:
        model, meta = load_trained(model_file, map_location=device)
    except ModelFileError as error:
        raise QueryError(str(error)) from None
    if meta["arch"] != index.info.get("arch"):
        raise QueryError(
            f"{model_file} is a {meta['arch']} but the index was built with {index.info.get('arch')}; "
            "pass that model's best.pt with --model"
        )

    features = l2_normalize(embed(model, query_image[None], meta, batch_size=1, device=device))
    if k > len(index):
        log.warning("-k %d is larger than the gallery; returning all %d products", k, len(index))
    found = search(index.embeddings, features, k)
    results = index.metadata.iloc[found.indices[0]].reset_index(drop=True)
    results.insert(0, "rank", np.arange(1, len(results) + 1))
    results.insert(2, "similarity", found.scores[0].astype(float))
    return results[OUTPUT_COLUMNS], index


def write_sheet(path: Path, query_path: Path, results: pd.DataFrame, images_dir: str | Path | None, resize: str) -> None:
    """Draw the query beside its neighbours; a neighbour whose photo is missing shows a grey panel.

    Photos are decoded again at ``SHEET_SIZE`` pixels, because the index's image size can
    be too small to recognise a product by eye.
    """
    from lookbook.data.images import ImageError, decode_image, fit_square
    from lookbook.search.index import product_image_path
    from lookbook.search.sheet import SheetRow, draw_sheet

    def load(path: Path) -> np.ndarray:
        return fit_square(decode_image(path, target=SHEET_SIZE, resize=resize).rgb, SHEET_SIZE, resize)

    query_image = load(query_path)
    images = []
    missing = 0
    for product_id in results["id"]:
        image = None
        if images_dir:
            try:
                image = load(product_image_path(images_dir, int(product_id)))
            except ImageError as error:
                log.debug("no image for id %s: %s", product_id, error)
        missing += image is None
        images.append(image)
    if missing:
        log.warning(
            "%d of %d neighbour photos not found under %s; pass the image directory with --images",
            missing, len(results), images_dir,
        )
    draw_sheet(
        [
            SheetRow(
                query_image=query_image,
                query_caption=f"query\n{query_path.name}",
                neighbour_images=images,
                neighbour_captions=[
                    f"#{row.rank} {row.similarity:.3f}\n{row.articleType}\n{row.baseColour}" for row in results.itertuples()
                ],
            )
        ],
        path,
    )
