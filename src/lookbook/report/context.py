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

# Figures of the main architecture, in the order the study shows them.
CLASSIFIER_FIGURES = ("curves", "distribution", "confusion", "misclassified")
SALIENCY_FIGURES = ("examples", "class_average", "focus", "sanity")
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
        "saliency_focus": "results/saliency/focus.tsv",
        "saliency_sanity": "results/saliency/sanity.tsv",
        "search_metrics": "results/search/metrics.tsv",
        "fig_search_examples": "figures/search/examples.png",
        "provenance": "results/provenance/provenance.json",
    }
    for name in CLASSIFIER_FIGURES:
        inputs[f"fig_classifier_{name}"] = f"figures/classifier/{arch}/{name}.png"
    if config["classifier"]["compare"]:
        inputs["classifier_comparison"] = "results/classifier/comparison.tsv"
    for name in SALIENCY_FIGURES:
        inputs[f"fig_saliency_{name}"] = f"figures/saliency/{name}.png"
    for subset in gan_subsets(config):
        inputs[f"gan_status_{subset}"] = f"results/gan/{subset}/status.json"
    return inputs


def gan_trained_inputs(subset: str) -> dict[str, str]:
    """Return the files of a trained DCGAN subset; a skipped or failed one has none of them."""
    inputs = {"quality": f"results/gan/{subset}/quality.json"}
    for name in GAN_FIGURES:
        inputs[f"fig_{name}"] = f"figures/gan/{subset}/{name}.png"
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
        "gan": _gan_section(config, root, path),
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
    return {
        "summary": summary,
        "manifest": manifest,
        "source_dir": str(_pick(summary, ("source_dir", "data_dir", "source", "directory"), "summary.json")),
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

    best_epoch = int(_pick(evaluation, ("best_epoch",), where))
    best_rows = metrics[metrics["epoch"] == best_epoch]
    if best_rows.empty:
        raise ReportInputError(f"{where}: best_epoch {best_epoch} is not in {inputs['classifier_metrics']}")
    best = best_rows.iloc[0]

    per_class = _per_class_rows(_pick(evaluation, ("per_class", "classes_report", "report"), where), where)
    confusion = _pick(evaluation, ("confusion_matrix", "confusion"), where)
    confusion_labels = [row["class"] for row in per_class]
    comparison = None
    if "classifier_comparison" in inputs:
        comparison = _table(read_tsv(path("classifier_comparison")))

    figures = {name: str(inputs[f"fig_classifier_{name}"]) for name in CLASSIFIER_FIGURES}
    return {
        "arch": config["classifier"]["arch"],
        "pretrained": config["classifier"]["pretrained"],
        "trainable": config["classifier"]["trainable"],
        "hyperparameters": _pick(evaluation, ("hyperparameters", "config", "params"), where),
        "parameters": _pick(evaluation, ("parameters", "parameter_count", "n_parameters"), where),
        "train_seconds": _pick(evaluation, ("train_seconds", "seconds"), where),
        "test_accuracy": float(_pick(evaluation, ("test_accuracy", "test_acc", "accuracy"), where)),
        "best_epoch": best_epoch,
        "best_train_accuracy": float(best["train_acc"]),
        "best_val_accuracy": float(best["val_acc"]),
        "epochs_run": int(metrics["epoch"].max()),
        "final": {column: float(metrics.iloc[-1][column]) for column in ("train_loss", "train_acc", "val_loss", "val_acc")},
        "per_class": per_class,
        "confusion": {"labels": confusion_labels, "matrix": [[int(v) for v in row] for row in confusion]},
        "comparison": comparison,
        "figures": figures,
    }


def _per_class_rows(raw: Any, where: str) -> list[dict[str, Any]]:
    """Normalize per-class metrics given as ``{class: {...}}`` or ``[{"class": ...}, ...]``."""
    if isinstance(raw, dict):
        items = [{"class": name, **values} for name, values in raw.items() if isinstance(values, dict)]
    elif isinstance(raw, list):
        items = [dict(item) for item in raw]
    else:
        raise ReportInputError(f"{where}: per-class metrics must be a dict or a list, got {type(raw).__name__}")
    rows = []
    for item in items:
        name = _pick(item, ("class", "label", "name"), f"{where} per-class entry")
        rows.append(
            {
                "class": str(name),
                "precision": float(_pick(item, ("precision",), f"{where} class {name}")),
                "recall": float(_pick(item, ("recall",), f"{where} class {name}")),
                "f1": float(_pick(item, ("f1", "f1-score", "f1_score"), f"{where} class {name}")),
                "support": int(_pick(item, ("support",), f"{where} class {name}")),
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
        "image_size": config["cache"]["classifier_size"],
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


def _gan_section(config, root: Path, path) -> dict[str, Any]:
    subsets = []
    for subset in gan_subsets(config):
        where = f"results/gan/{subset}/status.json"
        status = read_json(path(f"gan_status_{subset}"))
        state = _pick(status, ("status", "state"), where)
        entry = {
            "subset": subset,
            "status": str(state),
            "reason": str(status.get("reason") or ""),
            "images": _pick(status, ("image_count", "images", "n_images"), where),
            "quality": None,
            "figures": None,
        }
        if state == "trained":
            files = gan_trained_inputs(subset)
            quality = read_json(root / files["quality"])
            entry["quality"] = {
                "fid": float(_pick(quality, ("fid",), files["quality"])),
                "fid_floor": float(_pick(quality, ("fid_floor", "real_fid", "fid_real_vs_real"), files["quality"])),
                "class_agreement": _optional_float(quality, ("class_agreement", "agreement")),
            }
            entry["figures"] = {name: files[f"fig_{name}"] for name in GAN_FIGURES}
        elif not entry["reason"]:
            raise ReportInputError(f"{where}: status {state!r} without a reason; the DCGAN stage must record why")
        subsets.append(entry)
    return {"subsets": subsets, "epochs": config["gan"]["epochs"], "batch_size": config["gan"]["batch_size"]}


def _search_section(path, inputs) -> dict[str, Any]:
    return {
        "metrics": _table(read_tsv(path("search_metrics"))),
        "figures": {"examples": str(inputs["fig_search_examples"])},
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


def _pick(mapping: dict[str, Any], names: Iterable[str], where: str) -> Any:
    """Return the first of ``names`` present in ``mapping``; raise naming the file and keys."""
    names = tuple(names)
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    raise ReportInputError(
        f"{where}: none of the fields {list(names)} is present (found {sorted(mapping)}); "
        "rerun the stage that writes it, or update lookbook.report.context if the field was renamed"
    )


def _optional_float(mapping: dict[str, Any], names: Iterable[str]) -> float | None:
    for name in names:
        if mapping.get(name) is not None:
            return float(mapping[name])
    return None


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
