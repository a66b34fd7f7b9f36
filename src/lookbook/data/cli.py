"""``lookbook demo-data``: write the embedded demo dataset to a directory."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-data",
        help="write the demo dataset (styles.csv, images/<id>.jpg) to a directory",
        description="Write the deterministic demo dataset in the Kaggle layout, with planted defects.",
    )
    parser.add_argument("directory", metavar="DIR", help="output directory; created when missing")
    parser.add_argument("--n-images", type=int, default=1500, help="number of products (rows of styles.csv), at least 60; default 1500")
    parser.add_argument("--seed", type=int, default=7, help="random seed; the same seed writes the same bytes; default 7")
    parser.add_argument("--overwrite", action="store_true", help="replace a dataset already in DIR")
    parser.set_defaults(func=run_demo_data)


def run_demo_data(args: argparse.Namespace) -> int:
    from lookbook.data.demo import write_demo_dataset

    try:
        defects = write_demo_dataset(args.directory, n_images=args.n_images, seed=args.seed, overwrite=args.overwrite)
    except (FileExistsError, ValueError) as error:
        log.error("%s", error)
        return 2
    print(f"wrote {args.n_images} products to {args.directory} ({len(defects)} kinds of planted defects)")
    return 0
