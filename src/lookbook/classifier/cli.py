"""``lookbook predict``: classify photos with a trained model."""

from __future__ import annotations

import argparse
import csv
import json
import sys

COLUMNS = ["path", "predicted_class", "probability", "error"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="classify photos with a trained classifier",
        description=(
            "Classify photos with a trained model (best.pt), using the training-time "
            "preprocessing, and print one row per image: path, predicted class, probability, "
            "error. An unreadable image gets an error row; the exit status is then 1."
        ),
    )
    parser.add_argument("--model", required=True, help="trained model file, e.g. results/classifier/resnet152/best.pt")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    parser.add_argument("--format", choices=["csv", "json"], default="csv", help="output format on stdout (default: csv)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default: 32)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="torch device (default: auto)")
    parser.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lookbook.classifier.models import ModelFileError, load_trained
    from lookbook.classifier.predict import predict_photos
    from lookbook.device import pick_device

    if not Path(args.model).is_file():
        print(f"lookbook predict: model file {args.model} not found; train one with the workflow first", file=sys.stderr)
        return 2
    device = pick_device(args.device)
    try:
        model, meta = load_trained(args.model, map_location=device)
    except ModelFileError as error:
        print(f"lookbook predict: {error}", file=sys.stderr)
        return 2
    rows = predict_photos(model, meta, args.images, args.batch_size, device)

    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "probability": "" if row["probability"] is None else f"{row['probability']:.6f}"})
    return 1 if any(row["error"] for row in rows) else 0
