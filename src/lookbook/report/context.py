"""Build the report context: every number the templates show, read from rule outputs.

``report_inputs`` lists the files the report reads (the workflow declares them as rule
inputs, so a missing one stops the run before the report job starts) and
``build_context`` reads them into one JSON-serializable dict. The templates only
format and lay out what this dict holds.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import yaml

from lookbook.io import read_json, read_tsv
from lookbook.labels import get_scheme, slugify

log = logging.getLogger(__name__)

STUDY_PATH = Path(__file__).resolve().parents[3] / "report" / "study.yaml"

# Misclassified test products listed by name, most confident first.
MISCLASSIFIED_ROWS = 12

# Figures of the main architecture, in the order the study shows them.
CLASSIFIER_FIGURES = ("curves", "distribution", "confusion", "misclassified")
SALIENCY_FIGURES = ("examples", "class_average", "focus", "sanity", "sanity_maps")
GAN_FIGURES = ("grid", "losses", "neighbours")


class ReportInputError(ValueError):
    """A rule output is missing a field the report needs; the message names file and field."""


def load_study(path: str | Path = STUDY_PATH) -> dict[str, Any]:
    """Read the study's reference setting and results (``report/study.yaml``)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def gan_subsets(config: dict[str, Any]) -> list[str]:
    """Return the DCGAN subsets: ``all`` then one slug per class of the label scheme."""
    return ["all", *(slugify(name) for name in get_scheme(config["labels"]["scheme"]).classes)]


def report_inputs(config: dict[str, Any]) -> dict[str, str]:
    """Return the rule outputs the report reads, by name, as paths relative to the workdir."""
    arch = config["classifier"]["arch"]
    inputs = {
        "data_summary": "results/data/summary.json",
        "manifest": "results/data/manifest.json",
        "exclusion_counts": "results/data/exclusion_counts.tsv",
        "class_counts": "results/data/class_counts.tsv",
        "fig_data_class_distribution": "figures/data/class_distribution.png",
        "fig_data_class_distribution_splits": "figures/data/class_distribution_splits.png",
        "classifier_evaluation": f"results/classifier/{arch}/evaluation.json",
        "classifier_metrics": f"results/classifier/{arch}/metrics.tsv",
        "classifier_predictions": f"results/classifier/{arch}/predictions.tsv",
        "styles_clean": "results/data/styles_clean.tsv",
        "saliency_focus": "results/saliency/focus.tsv",
        "saliency_sanity": "results/saliency/sanity.tsv",
        "search_metrics": "results/search/metrics.tsv",
        "fig_search_examples": "figures/search/examples.png",
        "fig_search_metrics": "figures/search/metrics.png",
        "provenance": "results/provenance/provenance.json",
    }
    for name in CLASSIFIER_FIGURES:
        inputs[f"fig_classifier_{name}"] = f"figures/classifier/{arch}/{name}.png"
    if config["classifier"]["compare"]:
        inputs["classifier_comparison"] = "results/classifier/comparison.tsv"
    for name in SALIENCY_FIGURES:
        inputs[f"fig_saliency_{name}"] = f"figures/saliency/{name}.png"
    # The DCGAN stage writes status, quality and figures for every subset, a skipped or
    # failed one included (its figures then state the reason).
    for subset in gan_subsets(config):
        inputs[f"gan_status_{subset}"] = f"results/gan/{subset}/status.json"
        inputs[f"gan_quality_{subset}"] = f"results/gan/{subset}/quality.json"
        for name in GAN_FIGURES:
            inputs[f"fig_gan_{subset}_{name}"] = f"figures/gan/{subset}/{name}.png"
    return inputs


def build_context(
    config: dict[str, Any],
    inputs: dict[str, str | Path],
    benchmarks: list[dict[str, Any]],
    study: dict[str, Any] | None = None,
    root: str | Path = ".",
) -> dict[str, Any]:
    """Read every report input into one context dict.

    ``inputs`` maps the names of ``report_inputs(config)`` to paths relative to ``root``;
    ``benchmarks`` are the rows of ``provenance.read_benchmarks``. Figures are stored
    as paths relative to ``root``; the renderers embed or copy them.
    """
    root = Path(root)
    study = study if study is not None else load_study()

    def path(name: str) -> Path:
        return root / inputs[name]

    data = _data_section(path, inputs)
    classifier = _classifier_section(config, path, inputs)
    run = _run_section(config, data, classifier)
    context = {
        "title": config["report"]["title"],
        "run": run,
        "study": study,
        "differences": _differences_from_study(run, study),
        "reproduction": _reproduction_rows(run, data, classifier, study),
        "data": data,
        "classifier": classifier,
        "saliency": _saliency_section(path, inputs),
        "gan": _gan_section(config, path, inputs),
        "search": _search_section(path, inputs),
        "provenance": read_json(path("provenance")),
        "benchmarks": benchmarks,
    }
    _check_finite(context, "context")
    return context


# --- sections -------------------------------------------------------------------------


def _data_section(path, inputs) -> dict[str, Any]:
    summary = read_json(path("data_summary"))
    manifest = read_json(path("manifest"))
    exclusions = read_tsv(path("exclusion_counts"))
    _require_columns(exclusions, ["reason", "count"], inputs["exclusion_counts"])
    counts = read_tsv(path("class_counts"))
    _require_columns(counts, ["split", "label", "count", "share"], inputs["class_counts"])

    split_totals = counts.groupby("split", sort=False)["count"].sum()
    if "all" not in split_totals:
        raise ReportInputError(f"{inputs['class_counts']}: no rows with split 'all'; rerun the data stage")
    total = int(split_totals["all"])
    splits = [
        {"split": name, "count": int(split_totals[name]), "share": float(split_totals[name]) / total}
        for name in ("train", "val", "test")
        if name in split_totals
    ]
    distribution = counts.pivot_table(index="label", columns="split", values="count", aggfunc="sum", fill_value=0)
    distribution_columns = [name for name in ("all", "train", "val", "test") if name in distribution.columns]
    summary_where = inputs["data_summary"]
    manifest_where = inputs["manifest"]
    return {
        "summary": summary,
        "manifest": manifest,
        "source_dir": str(_pick(summary, "data_dir", summary_where)),
        "checksums": [
            ["styles.csv SHA-256", str(_pick(summary, "styles_sha256", summary_where))],
            ["image files", int(_pick(summary, "image_files", summary_where))],
            ["image files digest (SHA-256)", str(_pick(summary, "images_digest", summary_where))],
            ["manifest.tsv SHA-256", str(_pick(manifest, "sha256", manifest_where))],
            ["split seed", int(_pick(manifest, "seed", manifest_where))],
        ],
        "images": total,
        "classes": sorted(counts["label"].unique().tolist()),
        "splits": splits,
        "exclusions": {
            "columns": ["reason", "count"],
            "rows": [[str(row.reason), int(row.count)] for row in exclusions.itertuples()],
        },
        "excluded_total": int(exclusions["count"].sum()),
        "distribution": {
            "columns": ["class", *distribution_columns],
            "rows": [[label, *(int(distribution.at[label, c]) for c in distribution_columns)] for label in distribution.index],
        },
        "figures": {
            "class_distribution": str(inputs["fig_data_class_distribution"]),
            "class_distribution_splits": str(inputs["fig_data_class_distribution_splits"]),
        },
    }


def _classifier_section(config, path, inputs) -> dict[str, Any]:
    where = inputs["classifier_evaluation"]
    evaluation = read_json(path("classifier_evaluation"))
    metrics = read_tsv(path("classifier_metrics"))
    _require_columns(metrics, ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"], inputs["classifier_metrics"])
    if metrics.empty:
        raise ReportInputError(f"{inputs['classifier_metrics']}: no epochs recorded; rerun the classifier stage")
    test = _pick(evaluation, "test", where)
    per_class = _per_class_rows(_pick(test, "per_class", f"{where} test"), where)
    comparison = None
    if "classifier_comparison" in inputs:
        comparison = _table(read_tsv(path("classifier_comparison")))

    return {
        "arch": _pick(evaluation, "arch", where),
        "pretrained": config["classifier"]["pretrained"],
        "trainable": config["classifier"]["trainable"],
        "hyperparameters": _pick(evaluation, "hyperparameters", where),
        "parameters": int(_pick(evaluation, "parameters", where)),
        "trainable_parameters": int(_pick(evaluation, "trainable_parameters", where)),
        "train_seconds": float(_pick(evaluation, "train_seconds", where)),
        "image_size": int(_pick(evaluation, "image_size", where)),
        "test_accuracy": float(_pick(evaluation, "test_accuracy", where)),
        "test_images": int(_pick(test, "n_images", f"{where} test")),
        "macro_f1": float(_pick(test, "macro_f1", f"{where} test")),
        "best_epoch": int(_pick(evaluation, "best_epoch", where)),
        "best_train_accuracy": float(_pick(evaluation, "best_train_acc", where)),
        "best_val_accuracy": float(_pick(evaluation, "best_val_acc", where)),
        "epochs_run": int(_pick(evaluation, "epochs_run", where)),
        "per_class": per_class,
        "confusion": {
            "labels": [row["class"] for row in per_class],
            "matrix": [[int(count) for count in row] for row in _pick(test, "confusion_matrix", f"{where} test")],
        },
        "comparison": comparison,
        "misclassified": _misclassified_rows(path, inputs),
        "figures": {name: str(inputs[f"fig_classifier_{name}"]) for name in CLASSIFIER_FIGURES},
    }


def _misclassified_rows(path, inputs, limit: int = MISCLASSIFIED_ROWS) -> dict[str, Any]:
    """Return the most confident wrong test predictions with the product names."""
    predictions = read_tsv(path("classifier_predictions"))
    _require_columns(predictions, ["id", "split", "true_label", "predicted_label"], inputs["classifier_predictions"])
    styles = read_tsv(path("styles_clean"), usecols=["id", "productDisplayName"], dtype={"productDisplayName": str})
    wrong = predictions[(predictions["split"] == "test") & (predictions["true_label"] != predictions["predicted_label"])].copy()
    confidence = []
    for index, label in wrong["predicted_label"].items():
        column = f"prob_{slugify(label)}"
        if column not in wrong.columns:
            raise ReportInputError(f"{inputs['classifier_predictions']}: no column {column} for class {label!r}")
        confidence.append(float(wrong.at[index, column]))
    wrong["confidence"] = confidence
    wrong = wrong.sort_values(["confidence", "id"], ascending=[False, True]).head(limit)
    wrong = wrong.merge(styles, on="id", how="left", validate="one_to_one")
    wrong["productDisplayName"] = wrong["productDisplayName"].fillna("(no name in styles.csv)")
    return {
        "count": len(confidence),
        "test_images": int((predictions["split"] == "test").sum()),
        "columns": ["id", "product", "true class", "predicted class", "confidence"],
        "rows": [
            [int(row.id), str(row.productDisplayName), str(row.true_label), str(row.predicted_label), float(row.confidence)]
            for row in wrong.itertuples(index=False)
        ],
    }


def _per_class_rows(raw: Any, where: str) -> list[dict[str, Any]]:
    """Return the per-class test metrics as a list of plain rows, in class order."""
    if not isinstance(raw, list):
        raise ReportInputError(f"{where}: test.per_class must be a list of per-class entries, got {type(raw).__name__}")
    rows = []
    for item in raw:
        name = str(_pick(item, "class", f"{where} per-class entry"))
        rows.append(
            {
                "class": name,
                "precision": float(_pick(item, "precision", f"{where} class {name}")),
                "recall": float(_pick(item, "recall", f"{where} class {name}")),
                "f1": float(_pick(item, "f1", f"{where} class {name}")),
                "support": int(_pick(item, "support", f"{where} class {name}")),
            }
        )
    return rows


def _run_section(config, data, classifier) -> dict[str, Any]:
    demo = not config["data_dir"]
    return {
        "preset": config["preset"],
        "data_kind": "demo" if demo else "real",
        "data_label": "generated demo data (not product photos)" if demo else "real product photos",
        "data_dir": data["source_dir"],
        "images": data["images"],
        "classes": len(data["classes"]),
        "label_scheme": config["labels"]["scheme"],
        "image_size": classifier["image_size"],
        "arch": classifier["arch"],
        "pretrained": classifier["pretrained"],
        "trainable": classifier["trainable"],
        "epochs": classifier["epochs_run"],
        "batch_size": config["classifier"]["batch_size"],
        "lr": config["classifier"]["lr"],
        "gan_epochs": config["gan"]["epochs"],
        "gan_batch_size": config["gan"]["batch_size"],
    }


def _differences_from_study(run, study) -> list[str]:
    """List, in words, each way this run's setting differs from the study's."""
    reference = study["classifier"]
    checks = [
        (run["data_kind"] == "real", f"data: {run['data_label']}, not the Kaggle set"),
        (run["classes"] == study["classes"], f"classes: {run['classes']}, not {study['classes']}"),
        (run["arch"] == reference["arch"], f"architecture: {run['arch']}, not {reference['arch']}"),
        (run["pretrained"] == reference["pretrained"], f"pretrained weights: {run['pretrained']}, not {reference['pretrained']}"),
        (run["image_size"] == reference["image_size"], f"image size: {run['image_size']} px, not {reference['image_size']} px"),
        (run["epochs"] == reference["epochs"], f"epochs: {run['epochs']}, not {reference['epochs']}"),
        (run["batch_size"] == reference["batch_size"], f"batch size: {run['batch_size']}, not {reference['batch_size']}"),
        (math.isclose(run["lr"], reference["lr"]), f"learning rate: {run['lr']:g}, not {reference['lr']:g}"),
    ]
    return [message for same, message in checks if not same]


def _reproduction_rows(run, data, classifier, study) -> list[dict[str, Any]]:
    """Rows of the reproduction table: quantity, the study's value, this run's, and a format."""
    shares = {row["split"]: row["share"] for row in data["splits"]}
    split_run = "/".join(f"{100 * shares.get(name, 0.0):.1f}" for name in ("train", "val", "test"))
    split_study = "/".join(f"{100 * study['split'][name]:.0f}" for name in ("train", "val", "test"))
    return [
        {"quantity": "Train accuracy (best epoch)", "study": study["accuracy"]["train"], "run": classifier["best_train_accuracy"], "format": "percent"},
        {"quantity": "Validation accuracy (best epoch)", "study": study["accuracy"]["val"], "run": classifier["best_val_accuracy"], "format": "percent"},
        {"quantity": "Test accuracy", "study": study["accuracy"]["test"], "run": classifier["test_accuracy"], "format": "percent"},
        {"quantity": "Classes", "study": study["classes"], "run": run["classes"], "format": "integer"},
        {"quantity": "Split train/val/test (%)", "study": split_study, "run": split_run, "format": "text"},
        {"quantity": "Epochs", "study": study["classifier"]["epochs"], "run": run["epochs"], "format": "integer"},
        {"quantity": "Architecture", "study": study["classifier"]["arch"], "run": run["arch"], "format": "text"},
        {"quantity": "Pretrained weights", "study": study["classifier"]["pretrained"], "run": run["pretrained"], "format": "text"},
        {"quantity": "Image size (px)", "study": study["classifier"]["image_size"], "run": run["image_size"], "format": "integer"},
        {"quantity": "Images", "study": study["data"], "run": f"{run['images']} ({run['data_kind']})", "format": "text"},
    ]


def _saliency_section(path, inputs) -> dict[str, Any]:
    return {
        "focus": _table(read_tsv(path("saliency_focus"))),
        "sanity": _table(read_tsv(path("saliency_sanity"))),
        "figures": {name: str(inputs[f"fig_saliency_{name}"]) for name in SALIENCY_FIGURES},
    }


def _gan_section(config, path, inputs) -> dict[str, Any]:
    subsets = []
    for subset in gan_subsets(config):
        where = f"results/gan/{subset}/status.json"
        status = read_json(path(f"gan_status_{subset}"))
        quality = read_json(path(f"gan_quality_{subset}"))
        state = str(_pick(status, "status", where))
        reason = status.get("reason") or ""
        if state != "trained" and not reason:
            raise ReportInputError(f"{where}: status {state!r} without a reason; the DCGAN stage must record why")
        subsets.append(
            {
                "subset": subset,
                "status": state,
                "reason": str(reason),
                "images": int(_pick(status, "n_train_images", where)),
                "epochs_done": int(status.get("epochs_done", 0)),
                "train_seconds": _optional_float(status, "train_seconds"),
                # None where the stage could not compute the value: the FID of a subset
                # that was not trained, a floor with too few real images, the class
                # agreement of the whole set (no single class to agree with).
                "fid": _optional_float(quality, "fid"),
                "fid_floor": _optional_float(quality, "fid_floor_train_vs_test"),
                "class_agreement": _optional_float(quality, "class_agreement"),
                "real_test_agreement": _optional_float(quality, "real_test_agreement"),
                "figures": {name: str(inputs[f"fig_gan_{subset}_{name}"]) for name in GAN_FIGURES},
            }
        )
    return {"subsets": subsets, "epochs": config["gan"]["epochs"], "batch_size": config["gan"]["batch_size"]}


def _search_section(path, inputs) -> dict[str, Any]:
    return {
        "metrics": _table(read_tsv(path("search_metrics"))),
        "figures": {"examples": str(inputs["fig_search_examples"]), "metrics": str(inputs["fig_search_metrics"])},
    }


# --- helpers --------------------------------------------------------------------------


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    """Return a TSV table as ``{"columns": [...], "rows": [[...], ...]}`` of plain values."""
    rows = []
    for record in frame.itertuples(index=False):
        rows.append([_plain(value) for value in record])
    return {"columns": [str(column) for column in frame.columns], "rows": rows}


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _pick(mapping: dict[str, Any], names: str | Iterable[str], where: str) -> Any:
    """Return the first of ``names`` present in ``mapping``; raise naming the file and keys."""
    names = (names,) if isinstance(names, str) else tuple(names)
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    raise ReportInputError(
        f"{where}: none of the fields {list(names)} is present (found {sorted(mapping)}); "
        "rerun the stage that writes it, or update lookbook.report.context if the field was renamed"
    )


def _optional_float(mapping: dict[str, Any], name: str) -> float | None:
    value = mapping.get(name)
    return None if value is None else float(value)


def _require_columns(frame: pd.DataFrame, columns: list[str], where: str | Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportInputError(f"{where}: missing columns {missing} (found {list(frame.columns)})")


def _check_finite(value: Any, where: str) -> None:
    """Raise on NaN or infinity anywhere in the context, naming the key path."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ReportInputError(f"{where} is {value}; the stage that wrote it produced a non-finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{where}[{index}]")
